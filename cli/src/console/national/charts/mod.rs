//! The dashboard's charts, drawn by plotters into SVG strings the page puts in place. Titles
//! stay in the page (it speaks Chinese or English); the SVG holds axes, legend and data.
//! plotters is built without font files: its own text layout is enough for codes and numbers.

pub mod matrix;
pub mod over_time;
pub mod routes;

use plotters::coord::Shift;
use plotters::prelude::*;

/// Chart colours for the canonical colours and the verdicts, as staff know them.
pub fn colour_of(word: &str) -> RGBColor {
    match word {
        "GREEN" | "PASS" => RGBColor(0x2e, 0x9e, 0x44),
        "YELLOW" | "HOME_QUARANTINE" => RGBColor(0xe0, 0xb0, 0x00),
        "RED" | "CENTRAL_QUARANTINE" => RGBColor(0xd6, 0x28, 0x28),
        "PENDING" | "REVIEW" => RGBColor(0x7a, 0x7a, 0x7a),
        "REJECT" => RGBColor(0x6a, 0x1b, 0x9a),
        _ => RGBColor(0x1f, 0x5f, 0xbf),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot draw the {chart} chart: {why}")]
pub struct ChartError {
    pub chart: &'static str,
    pub why: String,
}

type Drawn = Result<(), Box<dyn std::error::Error>>;

/// Runs `draw` on a white `width`×`height` SVG canvas and returns the SVG.
pub fn svg(
    chart: &'static str,
    (width, height): (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Drawn,
) -> Result<String, ChartError> {
    let fail = |why: String| ChartError { chart, why };
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        draw(&root).map_err(|e| fail(e.to_string()))?;
        root.present().map_err(|e| fail(e.to_string()))?;
    }
    Ok(out)
}
