//! Where results go, CSV files and Markdown tables.
//!
//! Every value the simulator writes is a number or an identifier without commas, quotes or line
//! breaks, so CSV needs no quoting; [`Csv::row`] checks that.

use std::{
	fmt::Write as _,
	fs,
	io::{self, BufWriter, Write},
	path::{Path, PathBuf},
};

/// The output directories.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputDirs {
	/// Summary CSV files and the generated Markdown tables (small, committed).
	pub results: PathBuf,
	/// SVG figures (committed).
	pub figures: PathBuf,
	/// Per-run CSV files (large, not committed); `None` to skip them.
	pub runs: Option<PathBuf>,
}

impl OutputDirs {
	/// Creates the directories.
	pub fn create(&self) -> io::Result<()> {
		fs::create_dir_all(&self.results)?;
		fs::create_dir_all(&self.figures)?;
		if let Some(runs) = &self.runs {
			fs::create_dir_all(runs)?;
		}
		Ok(())
	}

	/// A file in the results directory.
	pub fn result(&self, name: &str) -> PathBuf {
		self.results.join(name)
	}

	/// A file in the figures directory.
	pub fn figure(&self, name: &str) -> PathBuf {
		self.figures.join(name)
	}

	/// A per-run file, when per-run files are kept.
	pub fn run_file(&self, name: &str) -> Option<PathBuf> {
		self.runs.as_ref().map(|runs| runs.join(name))
	}
}

/// A CSV file being written.
pub struct Csv {
	writer: BufWriter<fs::File>,
	columns: usize,
}

impl Csv {
	/// Creates `path` with the header `columns`.
	pub fn create(path: &Path, columns: &[&str]) -> io::Result<Self> {
		let mut csv = Self { writer: BufWriter::new(fs::File::create(path)?), columns: 0 };
		csv.write_fields(columns.iter().map(|column| column.to_string()).collect())?;
		csv.columns = columns.len();
		Ok(csv)
	}

	/// Writes one row; it must have as many fields as the header.
	pub fn row(&mut self, fields: Vec<String>) -> io::Result<()> {
		assert_eq!(fields.len(), self.columns, "a row of {} fields", fields.len());
		self.write_fields(fields)
	}

	fn write_fields(&mut self, fields: Vec<String>) -> io::Result<()> {
		for field in &fields {
			assert!(
				!field.contains([',', '"', '\n', '\r']),
				"a CSV field that would need quoting: {field:?}"
			);
		}
		writeln!(self.writer, "{}", fields.join(","))
	}

	/// Flushes the file.
	pub fn finish(mut self) -> io::Result<()> {
		self.writer.flush()
	}
}

/// A float for CSV files: up to 9 significant digits, `NA` for a missing value.
pub fn number(value: Option<f64>) -> String {
	match value {
		Some(value) if value.is_finite() => {
			let formatted = format!("{value:.9e}");
			// Plain notation where that is short.
			if value == 0.0 || (1e-4..1e9).contains(&value.abs()) {
				let plain = format!("{value:.9}");
				plain.trim_end_matches('0').trim_end_matches('.').to_string()
			} else {
				formatted
			}
		},
		Some(value) => format!("{value}"),
		None => "NA".into(),
	}
}

/// A Markdown table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
	header: Vec<String>,
	rows: Vec<Vec<String>>,
}

impl Table {
	/// A table with `header`.
	pub fn new(header: &[&str]) -> Self {
		Self { header: header.iter().map(|h| h.to_string()).collect(), rows: Vec::new() }
	}

	/// Appends a row.
	pub fn row(&mut self, cells: Vec<String>) {
		assert_eq!(cells.len(), self.header.len(), "a row of {} cells", cells.len());
		self.rows.push(cells);
	}

	/// The table in Markdown.
	pub fn markdown(&self) -> String {
		let mut out = String::new();
		let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
		out.push_str(&line(&self.header));
		out.push_str(&line(&vec!["---".to_string(); self.header.len()]));
		for row in &self.rows {
			out.push_str(&line(row));
		}
		out
	}
}

/// A Markdown report: sections of text and tables, written to one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
	text: String,
}

impl Report {
	/// Adds a heading.
	pub fn heading(&mut self, title: &str) {
		let _ = write!(self.text, "\n### {title}\n\n");
	}

	/// Adds a paragraph.
	pub fn paragraph(&mut self, text: &str) {
		let _ = write!(self.text, "{text}\n\n");
	}

	/// Adds a table.
	pub fn table(&mut self, table: &Table) {
		let _ = writeln!(self.text, "{}", table.markdown());
	}

	/// Appends another report.
	pub fn append(&mut self, other: &Report) {
		self.text.push_str(&other.text);
	}

	/// The Markdown text.
	pub fn text(&self) -> &str {
		&self.text
	}

	/// Writes the report to `path`.
	pub fn write(&self, path: &Path) -> io::Result<()> {
		fs::write(path, &self.text)
	}
}

/// A fixed-point value as an exact decimal, without trailing zeros (`2.5`, `250000`).
pub fn decimal(value: contract_equilibrium_primitives::FixedU128) -> String {
	let inner = value.into_inner();
	let (whole, fraction) = (inner / 1_000_000_000_000_000_000, inner % 1_000_000_000_000_000_000);
	if fraction == 0 {
		return whole.to_string();
	}
	let digits = format!("{fraction:018}");
	format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// A value with `digits` decimals for a table; `–` for a missing value.
pub fn cell(value: Option<f64>, digits: usize) -> String {
	value.map_or_else(|| "–".into(), |value| format!("{value:.digits$}"))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn numbers_are_short_and_exact_enough() {
		assert_eq!(number(Some(0.0)), "0");
		assert_eq!(number(Some(12.0)), "12");
		assert_eq!(number(Some(0.125)), "0.125");
		assert_eq!(number(Some(1.0 / 3.0)), "0.333333333");
		assert_eq!(number(Some(2.5e-7)), "2.500000000e-7");
		assert_eq!(number(None), "NA");
	}

	#[test]
	fn decimals_are_exact() {
		use contract_equilibrium_primitives::FixedU128;
		assert_eq!(decimal(FixedU128::from_u32(250_000)), "250000");
		assert_eq!(decimal(FixedU128::from_rational(5, 2)), "2.5");
		assert_eq!(decimal(FixedU128::from_inner(1)), "0.000000000000000001");
	}

	#[test]
	fn tables_render_as_markdown() {
		let mut table = Table::new(&["rule", "blocks"]);
		table.row(vec!["newton".into(), cell(Some(6.0), 0)]);
		table.row(vec!["eip".into(), cell(None, 0)]);
		assert_eq!(
			table.markdown(),
			"| rule | blocks |\n| --- | --- |\n| newton | 6 |\n| eip | – |\n"
		);
	}

	#[test]
	fn csv_files_have_a_header_and_rows() {
		let dir = std::env::temp_dir().join(format!("equilibrium-sim-csv-{}", std::process::id()));
		fs::create_dir_all(&dir).unwrap();
		let path = dir.join("t.csv");
		let mut csv = Csv::create(&path, &["a", "b"]).unwrap();
		csv.row(vec!["1".into(), "x".into()]).unwrap();
		csv.finish().unwrap();
		assert_eq!(fs::read_to_string(&path).unwrap(), "a,b\n1,x\n");
		fs::remove_dir_all(&dir).unwrap();
	}
}
