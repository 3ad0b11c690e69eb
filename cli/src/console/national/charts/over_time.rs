//! Decisions per minute over the last hour, one line per verdict or per colour.

use plotters::prelude::*;

use super::{ChartError, colour_of, svg};
use crate::console::national::history::MINUTES;

/// One line: its legend word (a verdict or colour) and (minutes ago, count) points.
pub struct Line {
    pub word: &'static str,
    pub points: Vec<(i64, u64)>,
}

pub fn chart(chart: &'static str, lines: &[Line]) -> Result<String, ChartError> {
    svg(chart, (640, 300), |root| {
        let top = lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1))
            .max()
            .unwrap_or(0)
            .max(4);
        let mut c = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(44)
            .build_cartesian_2d(-(MINUTES - 1)..0i64, 0u64..top + top / 4)?;
        c.configure_mesh()
            .x_desc("minutes ago")
            .y_desc("per minute")
            .x_label_formatter(&|m| (-m).to_string())
            .draw()?;
        for line in lines {
            let style = colour_of(line.word).stroke_width(2);
            c.draw_series(LineSeries::new(line.points.iter().copied(), style))?
                .label(line.word)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        }
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()?;
        Ok(())
    })
}
