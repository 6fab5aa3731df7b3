//! SVG figures with plotters: panels of line series and shaded bands.
//!
//! Only plotters' SVG backend is used: text is written as SVG `<text>` and rendered by the
//! viewer, so no font files or system libraries are needed to draw.

use plotters::{
	coord::{
		ranged1d::{AsRangedCoord, ValueFormatter},
		Shift,
	},
	prelude::*,
};
use std::{error::Error, ops::Range, path::Path};

/// Colours that stay distinguishable for colour-blind readers (Okabe & Ito).
pub const PALETTE: [RGBColor; 8] = [
	RGBColor(0, 114, 178),
	RGBColor(213, 94, 0),
	RGBColor(0, 158, 115),
	RGBColor(204, 121, 167),
	RGBColor(230, 159, 0),
	RGBColor(86, 180, 233),
	RGBColor(0, 0, 0),
	RGBColor(240, 228, 66),
];

/// A line in a panel.
#[derive(Clone, Debug)]
pub struct Series {
	/// The legend's text (empty: not in the legend).
	pub label: String,
	/// The colour.
	pub color: RGBColor,
	/// The points, in drawing order.
	pub points: Vec<(f64, f64)>,
	/// Dashed instead of solid.
	pub dashed: bool,
}

/// A shaded area between two lines with the same abscissae.
#[derive(Clone, Debug)]
pub struct Band {
	/// The colour (drawn translucent).
	pub color: RGBColor,
	/// The lower edge.
	pub lower: Vec<(f64, f64)>,
	/// The upper edge.
	pub upper: Vec<(f64, f64)>,
}

/// An axis: its label, range and scale.
#[derive(Clone, Debug)]
pub struct Axis {
	/// The label.
	pub label: String,
	/// The range shown.
	pub range: Range<f64>,
	/// Logarithmic scale.
	pub log: bool,
}

impl Axis {
	/// A linear axis.
	pub fn linear(label: &str, range: Range<f64>) -> Self {
		Self { label: label.into(), range, log: false }
	}

	/// A logarithmic axis.
	pub fn log(label: &str, range: Range<f64>) -> Self {
		Self { label: label.into(), range, log: true }
	}

	/// Clamps `value` into the axis (log axes cannot show zero).
	pub fn clamp(&self, value: f64) -> f64 {
		value.clamp(self.range.start, self.range.end)
	}
}

/// One chart.
#[derive(Clone, Debug)]
pub struct Panel {
	/// The caption.
	pub title: String,
	/// The horizontal axis.
	pub x: Axis,
	/// The vertical axis.
	pub y: Axis,
	/// The lines.
	pub series: Vec<Series>,
	/// The shaded bands, drawn below the lines.
	pub bands: Vec<Band>,
	/// Where the legend goes (`None`: no legend).
	pub legend: Option<SeriesLabelPosition>,
}

impl Panel {
	/// An empty panel.
	pub fn new(title: &str, x: Axis, y: Axis) -> Self {
		Self {
			title: title.into(),
			x,
			y,
			series: Vec::new(),
			bands: Vec::new(),
			legend: Some(SeriesLabelPosition::UpperRight),
		}
	}
}

/// A figure: panels on a grid, written as one SVG file.
#[derive(Clone, Debug)]
pub struct Figure {
	/// The panels, row by row.
	pub panels: Vec<Panel>,
	/// Rows and columns of the grid.
	pub grid: (usize, usize),
	/// The size of each panel, in pixels.
	pub panel_size: (u32, u32),
}

impl Figure {
	/// A figure of `panels` on a `rows × columns` grid of 560 × 380 pixel panels.
	pub fn new(panels: Vec<Panel>, rows: usize, columns: usize) -> Self {
		Self { panels, grid: (rows, columns), panel_size: (560, 380) }
	}

	/// Writes the figure to `path` as SVG.
	pub fn write_svg(&self, path: &Path) -> Result<(), Box<dyn Error>> {
		let (rows, columns) = self.grid;
		let size = (self.panel_size.0 * columns as u32, self.panel_size.1 * rows as u32);
		let root = SVGBackend::new(path, size).into_drawing_area();
		root.fill(&WHITE)?;
		let areas = root.split_evenly((rows, columns));
		for (panel, area) in self.panels.iter().zip(areas.iter()) {
			match (panel.x.log, panel.y.log) {
				(false, false) => {
					draw_panel(area, panel, panel.x.range.clone(), panel.y.range.clone())?
				},
				(true, false) => draw_panel(
					area,
					panel,
					panel.x.range.clone().log_scale(),
					panel.y.range.clone(),
				)?,
				(false, true) => draw_panel(
					area,
					panel,
					panel.x.range.clone(),
					panel.y.range.clone().log_scale(),
				)?,
				(true, true) => draw_panel(
					area,
					panel,
					panel.x.range.clone().log_scale(),
					panel.y.range.clone().log_scale(),
				)?,
			}
		}
		root.present()?;
		Ok(())
	}
}

/// A tick label: scientific notation on log axes, a short decimal otherwise.
fn tick_label(value: f64, log: bool) -> String {
	if log {
		let exponent = value.log10().round();
		if (value.log10() - exponent).abs() < 1e-9 {
			return match exponent as i32 {
				0 => "1".into(),
				1 => "10".into(),
				2 => "100".into(),
				3 => "1000".into(),
				e => format!("1e{e}"),
			};
		}
		return format!("{value:.0e}");
	}
	let text = format!("{value:.3}");
	text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn draw_panel<X, Y>(
	area: &DrawingArea<SVGBackend, Shift>,
	panel: &Panel,
	x: X,
	y: Y,
) -> Result<(), Box<dyn Error>>
where
	X: AsRangedCoord<Value = f64>,
	Y: AsRangedCoord<Value = f64>,
	X::CoordDescType: ValueFormatter<f64>,
	Y::CoordDescType: ValueFormatter<f64>,
{
	let mut chart = ChartBuilder::on(area)
		.caption(&panel.title, ("sans-serif", 16))
		.margin(12)
		.x_label_area_size(42)
		.y_label_area_size(62)
		.build_cartesian_2d(x, y)?;
	let (x_log, y_log) = (panel.x.log, panel.y.log);
	chart
		.configure_mesh()
		.x_desc(panel.x.label.as_str())
		.y_desc(panel.y.label.as_str())
		.x_label_formatter(&|value| tick_label(*value, x_log))
		.y_label_formatter(&|value| tick_label(*value, y_log))
		.light_line_style(BLACK.mix(0.04))
		.bold_line_style(BLACK.mix(0.12))
		.label_style(("sans-serif", 12))
		.axis_desc_style(("sans-serif", 13))
		.draw()?;

	for band in &panel.bands {
		let outline: Vec<(f64, f64)> =
			band.lower.iter().copied().chain(band.upper.iter().rev().copied()).collect();
		chart.draw_series(std::iter::once(Polygon::new(outline, band.color.mix(0.15).filled())))?;
	}
	for series in &panel.series {
		let style = series.color.stroke_width(2);
		let drawn = if series.dashed {
			chart.draw_series(DashedLineSeries::new(series.points.iter().copied(), 6, 4, style))?
		} else {
			chart.draw_series(LineSeries::new(series.points.iter().copied(), style))?
		};
		if !series.label.is_empty() {
			let color = series.color;
			drawn.label(series.label.as_str()).legend(move |(x, y)| {
				PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
			});
		}
	}
	if let Some(position) = panel.legend.clone() {
		if panel.series.iter().any(|series| !series.label.is_empty()) {
			chart
				.configure_series_labels()
				.position(position)
				.background_style(WHITE.mix(0.85))
				.border_style(BLACK.mix(0.3))
				.label_font(("sans-serif", 12))
				.draw()?;
		}
	}
	Ok(())
}

/// The most steps an [`ecdf`] draws; larger samples are drawn at evenly spaced ranks, which keeps
/// the SVG files small without a visible difference.
pub const ECDF_STEPS: usize = 200;

/// The empirical cumulative distribution of `values` as a step line: `(x, share of values ≤ x)`.
pub fn ecdf(values: &[f64]) -> Vec<(f64, f64)> {
	let mut sorted = values.to_vec();
	sorted.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
	let count = sorted.len();
	let steps = count.min(ECDF_STEPS);
	let mut points = Vec::with_capacity(2 * steps);
	let mut below = 0;
	for step in 1..=steps {
		// The rank this step reaches: the last of its share of the sorted sample.
		let rank = (step * count).div_ceil(steps);
		let value = sorted[rank - 1];
		points.push((value, below as f64 / count as f64));
		points.push((value, rank as f64 / count as f64));
		below = rank;
	}
	points
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn ecdf_steps_from_zero_to_one() {
		let points = ecdf(&[3.0, 1.0, 2.0]);
		assert_eq!(points.first(), Some(&(1.0, 0.0)));
		assert_eq!(points.last(), Some(&(3.0, 1.0)));
		assert_eq!(points.len(), 6);
		let large: Vec<f64> = (0..1000).map(f64::from).collect();
		let thinned = ecdf(&large);
		assert_eq!(thinned.len(), 2 * ECDF_STEPS);
		assert_eq!(thinned.last(), Some(&(999.0, 1.0)));
		assert_eq!(thinned[1], (4.0, 0.005));
	}

	#[test]
	fn tick_labels_are_short() {
		assert_eq!(tick_label(1e-6, true), "1e-6");
		assert_eq!(tick_label(100.0, true), "100");
		assert_eq!(tick_label(0.25, false), "0.25");
		assert_eq!(tick_label(2.0, false), "2");
	}

	#[test]
	fn a_figure_is_written_as_svg() {
		let mut panel = Panel::new("test", Axis::linear("x", 0.0..1.0), Axis::log("y", 1e-3..1.0));
		panel.series.push(Series {
			label: "line".into(),
			color: PALETTE[0],
			points: vec![(0.0, 1e-3), (1.0, 1.0)],
			dashed: false,
		});
		panel.bands.push(Band {
			color: PALETTE[1],
			lower: vec![(0.0, 1e-3), (1.0, 0.1)],
			upper: vec![(0.0, 1e-2), (1.0, 1.0)],
		});
		let path = std::env::temp_dir().join(format!("equilibrium-sim-{}.svg", std::process::id()));
		Figure::new(vec![panel], 1, 1).write_svg(&path).unwrap();
		let svg = std::fs::read_to_string(&path).unwrap();
		assert!(svg.starts_with("<svg") && svg.contains("line") && svg.contains("<polygon"));
		std::fs::remove_file(&path).unwrap();
	}
}
