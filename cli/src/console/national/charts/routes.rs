//! Worker confirmations (转码互认) by route: one bar per origin → destination, confirmed in
//! green and not confirmed in red.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{ChartError, colour_of, svg};

/// One route's bar.
pub struct Route {
    pub label: String,
    pub confirmed: u64,
    pub not_confirmed: u64,
}

pub fn chart(routes: &[Route]) -> Result<String, ChartError> {
    let height = 120 + 36 * routes.len().max(1) as u32;
    svg("confirmations by route", (640, height), |root| {
        let n = routes.len().max(1) as i32;
        let top = routes
            .iter()
            .map(|r| r.confirmed + r.not_confirmed)
            .max()
            .unwrap_or(0)
            .max(4);
        let mut c = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(120)
            .build_cartesian_2d(0u64..top + top / 5, 0..n)?;
        c.configure_mesh()
            .disable_y_mesh()
            .x_desc("workers")
            .y_labels(routes.len() + 1)
            .y_label_formatter(&|_| String::new())
            .draw()?;
        // Route i's bar spans i..i+1; its name goes beside the bar's middle (axis labels sit
        // on the integers, between bars).
        let label = TextStyle::from(("sans-serif", 12).into_font())
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (r, i) in routes.iter().zip(0..) {
            let ((x, low), (_, high)) = (c.backend_coord(&(0, i)), c.backend_coord(&(0, i + 1)));
            root.draw(&Text::new(
                r.label.clone(),
                (x - 8, (low + high) / 2),
                label.clone(),
            ))?;
        }
        let bar = |from: u64, to: u64, i: i32, word: &'static str| {
            let mut r = Rectangle::new([(from, i), (to, i + 1)], colour_of(word).filled());
            r.set_margin(6, 6, 0, 0);
            r
        };
        let rows = routes.iter().zip(0..);
        c.draw_series(rows.clone().map(|(r, i)| bar(0, r.confirmed, i, "PASS")))?
            .label("confirmed")
            .legend(|(x, y)| {
                Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour_of("PASS").filled())
            });
        c.draw_series(
            rows.map(|(r, i)| bar(r.confirmed, r.confirmed + r.not_confirmed, i, "RED")),
        )?
        .label("not confirmed")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour_of("RED").filled()));
        c.configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()?;
        Ok(())
    })
}
