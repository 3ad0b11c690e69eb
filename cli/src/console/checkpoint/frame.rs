//! QR codes in one camera frame that the page posted as PNG, read by rqrr (pure Rust).

use std::io::Cursor;

/// A frame larger than this is not a webcam picture (4K is 8.3 million pixels).
const MAX_PIXELS: usize = 4096 * 4096;

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("the frame is not a PNG image: {0}")]
    NotPng(#[from] png::DecodingError),
    #[error("the frame is {0}×{1} pixels, more than a camera frame")]
    TooLarge(u32, u32),
}

/// The text of every QR code rqrr can decode in `png_bytes`, in the order it finds them; empty
/// when the frame holds none, or only codes with no text (the page then posts the next frame).
pub fn qr_payloads(png_bytes: &[u8]) -> Result<Vec<String>, FrameError> {
    let grey = greyscale(png_bytes)?;
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(grey.width, grey.height, |x, y| {
            grey.pixels[y * grey.width + x]
        });
    Ok(prepared
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok())
        .map(|(_meta, text)| text)
        .filter(|text| !text.trim().is_empty())
        .collect())
}

struct Grey {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

/// Decodes the PNG to 8-bit samples and keeps one luma byte per pixel.
fn greyscale(png_bytes: &[u8]) -> Result<Grey, FrameError> {
    let mut decoder = png::Decoder::new(Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info()?;
    let (w, h) = (reader.info().width, reader.info().height);
    let (width, height) = (w as usize, h as usize);
    if width.saturating_mul(height) > MAX_PIXELS {
        return Err(FrameError::TooLarge(w, h));
    }
    let (colour, _depth) = reader.output_color_type();
    let mut buf = vec![
        0;
        reader
            .output_buffer_size()
            .ok_or(FrameError::TooLarge(w, h))?
    ];
    let info = reader.next_frame(&mut buf)?;
    let channels = colour.samples();
    let pixels = buf[..info.buffer_size()]
        .chunks_exact(channels)
        .map(|p| match p {
            // ITU-R BT.601 luma, in integers.
            [r, g, b, ..] => ((299 * *r as u32 + 587 * *g as u32 + 114 * *b as u32) / 1000) as u8,
            [l, ..] => *l,
            [] => 0,
        })
        .collect();
    Ok(Grey {
        width,
        height,
        pixels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A QR code of `text` drawn as an RGBA PNG, 4 pixels a module, with a quiet zone.
    fn qr_png(text: &str) -> Vec<u8> {
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let n = code.width();
        let scale = 4;
        let size = (n + 8) * scale;
        let mut rgba = Vec::with_capacity(size * size * 4);
        for y in 0..size {
            for x in 0..size {
                let (mx, my) = ((x / scale).wrapping_sub(4), (y / scale).wrapping_sub(4));
                let dark = mx < n && my < n && code[(mx, my)] == qrcode::Color::Dark;
                let v = if dark { 0 } else { 255 };
                rgba.extend_from_slice(&[v, v, v, 255]);
            }
        }
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, size as u32, size as u32);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        encoder
            .write_header()
            .unwrap()
            .write_image_data(&rgba)
            .unwrap();
        out
    }

    #[test]
    fn reads_the_code_in_a_frame() {
        let payload = "HZJK1|330100|abc|GREEN|2020-02-20T08:00:00Z|sig";
        assert_eq!(qr_payloads(&qr_png(payload)).unwrap(), vec![payload]);
    }

    #[test]
    fn a_frame_without_a_code_reads_nothing_and_garbage_is_refused() {
        let blank = {
            let mut out = Vec::new();
            let mut encoder = png::Encoder::new(&mut out, 8, 8);
            encoder.set_color(png::ColorType::Grayscale);
            encoder
                .write_header()
                .unwrap()
                .write_image_data(&[255; 64])
                .unwrap();
            out
        };
        assert!(qr_payloads(&blank).unwrap().is_empty());
        assert!(matches!(
            qr_payloads(b"not a png"),
            Err(FrameError::NotPng(_))
        ));
    }
}
