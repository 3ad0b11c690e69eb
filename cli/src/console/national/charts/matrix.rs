//! The verifying × issuing matrix as a heat map: how many codes each region checked from each
//! region in the window, darker for more.

use std::collections::BTreeMap;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{ChartError, svg};

/// `cells[(verifying, issuing)] = count`; `regions` label both axes, in order.
pub fn chart(
    regions: &[String],
    cells: &BTreeMap<(String, String), u64>,
) -> Result<String, ChartError> {
    svg("verifying × issuing", (640, 420), |root| {
        let n = regions.len().max(1) as i32;
        let name = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => usize::try_from(*i)
                .ok()
                .and_then(|i| regions.get(i))
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        };
        let mut c = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(64)
            // An i32 range counts both ends: 0..n-1 are the n cells.
            .build_cartesian_2d((0..n - 1).into_segmented(), (0..n - 1).into_segmented())?;
        c.configure_mesh()
            .disable_mesh()
            .x_desc("issuing region")
            .y_desc("verifying region")
            .x_labels(regions.len() + 1)
            .y_labels(regions.len() + 1)
            .x_label_formatter(&name)
            .y_label_formatter(&name)
            .draw()?;
        let top = cells.values().copied().max().unwrap_or(0).max(1) as f64;
        let mut rects = Vec::new();
        let mut labels = Vec::new();
        for y in 0..n {
            for x in 0..n {
                let count = match (regions.get(y as usize), regions.get(x as usize)) {
                    (Some(v), Some(i)) => cells.get(&(v.clone(), i.clone())).copied().unwrap_or(0),
                    _ => 0,
                };
                let shade = count as f64 / top;
                let fill = RGBColor(
                    (235.0 - 204.0 * shade) as u8,
                    (242.0 - 147.0 * shade) as u8,
                    (250.0 - 59.0 * shade) as u8,
                );
                let corner = |i: i32| SegmentValue::Exact(i);
                let mut cell = Rectangle::new(
                    [(corner(x), corner(y)), (corner(x + 1), corner(y + 1))],
                    fill.filled(),
                );
                cell.set_margin(1, 1, 1, 1);
                rects.push(cell);
                if count > 0 {
                    let ink: &'static RGBColor = if shade > 0.5 { &WHITE } else { &BLACK };
                    let style = TextStyle::from(("sans-serif", 15).into_font())
                        .color(ink)
                        .pos(Pos::new(HPos::Center, VPos::Center));
                    labels.push(Text::new(
                        count.to_string(),
                        (SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)),
                        style,
                    ));
                }
            }
        }
        c.draw_series(rects)?;
        c.draw_series(labels)?;
        Ok(())
    })
}
