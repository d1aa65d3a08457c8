//! A table of text cells rendered two ways: space-aligned for a terminal, or as a Markdown pipe
//! table. The terminal and Markdown outputs share their cell contents through this type, so
//! they always show the same sections.

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

#[derive(Debug, Clone)]
pub(crate) struct TextTable {
    headers: Vec<&'static str>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl TextTable {
    pub(crate) fn new(columns: &[(&'static str, Align)]) -> Self {
        TextTable {
            headers: columns.iter().map(|c| c.0).collect(),
            align: columns.iter().map(|c| c.1).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are blank, extra cells dropped.
    pub(crate) fn row(&mut self, mut cells: Vec<String>) {
        cells.resize(self.headers.len(), String::new());
        self.rows.push(cells);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub(crate) fn headers(&self) -> &[&'static str] {
        &self.headers
    }

    pub(crate) fn aligns(&self) -> &[Align] {
        &self.align
    }

    pub(crate) fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }

    /// Columns padded to their widest cell, two spaces apart, a dashed rule under the header.
    pub(crate) fn aligned(&self, indent: &str) -> String {
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|c| c.chars().count())
                    .chain([self.headers.get(i).map_or(0, |h| h.chars().count())])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        let header: Vec<String> = self.headers.iter().map(|h| h.to_string()).collect();
        // A column without a header (the timeline's bar) gets no rule either.
        let rule: Vec<String> = widths
            .iter()
            .zip(&self.headers)
            .map(|(w, h)| {
                if h.is_empty() {
                    String::new()
                } else {
                    "-".repeat(*w)
                }
            })
            .collect();
        for cells in [&header, &rule].into_iter().chain(self.rows.iter()) {
            let mut line = String::from(indent);
            for (i, cell) in cells.iter().enumerate() {
                let width = widths.get(i).copied().unwrap_or(0);
                let pad = width.saturating_sub(cell.chars().count());
                if i > 0 {
                    line.push_str("  ");
                }
                match self.align.get(i).copied().unwrap_or(Align::Left) {
                    Align::Left => {
                        line.push_str(cell);
                        line.extend(std::iter::repeat_n(' ', pad));
                    }
                    Align::Right => {
                        line.extend(std::iter::repeat_n(' ', pad));
                        line.push_str(cell);
                    }
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// A GitHub-flavoured Markdown table; `|` in cells is escaped.
    pub(crate) fn markdown(&self) -> String {
        let mut out = String::new();
        out.push_str(&md_row(self.headers.iter().map(|h| h.to_string())));
        out.push_str(&md_row(self.align.iter().map(|a| match a {
            Align::Left => "---".to_string(),
            Align::Right => "---:".to_string(),
        })));
        for row in &self.rows {
            out.push_str(&md_row(row.iter().cloned()));
        }
        out
    }
}

fn md_row(cells: impl Iterator<Item = String>) -> String {
    let cells: Vec<String> = cells.map(|c| c.replace('|', "\\|")).collect();
    format!("| {} |\n", cells.join(" | "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> TextTable {
        let mut t = TextTable::new(&[("name", Align::Left), ("bytes", Align::Right)]);
        t.row(vec!["a".into(), "1.00 KB".into()]);
        t.row(vec!["longer|name".into(), "5 B".into()]);
        t
    }

    #[test]
    fn aligned_pads_left_and_right_columns() {
        assert_eq!(
            sample().aligned(""),
            "name           bytes\n-----------  -------\na            1.00 KB\nlonger|name      5 B\n"
        );
    }

    #[test]
    fn markdown_escapes_pipes_and_marks_numeric_columns() {
        assert_eq!(
            sample().markdown(),
            "| name | bytes |\n| --- | ---: |\n| a | 1.00 KB |\n| longer\\|name | 5 B |\n"
        );
    }
}
