//! Line numbers placed after the fact. Workers parse a file's chunks in any order, and the
//! chunks of a bare-record file come from the reader uncounted (see `chunk`): each numbers its
//! lines from 1 and reports how many it has. Gathered from all workers, those counts place every
//! chunk in its file, and a line number a chunk gave (in an error) becomes the file's. Only the
//! few lines an error names are renumbered, long after the hot loop.

use crate::read::chunk::Chunk;

/// What the workers learnt about the chunks of one file they parsed: each chunk's place, its
/// first line when the reader counted it, and its line count. Gather with
/// [`LineNumbers::count`] per chunk and [`LineNumbers::merge`] per worker, then read with
/// [`LineNumbers::file_line`].
#[derive(Debug, Clone, Default)]
pub struct LineNumbers {
    chunks: Vec<Counted>,
    /// `chunks` is sorted by place and every `start` is set.
    placed: bool,
}

#[derive(Debug, Clone, Copy)]
struct Counted {
    seq: u64,
    /// The first line as the reader numbered it, if it did.
    known: Option<u64>,
    lines: u64,
    /// The file's number of the first line (set by `place`).
    start: u64,
}

impl LineNumbers {
    /// Notes that `chunk` holds `lines` lines (what [`Chunk::for_each_flow`] returns).
    pub fn count(&mut self, chunk: &Chunk, lines: u64) {
        self.chunks.push(Counted {
            seq: chunk.seq(),
            known: chunk.first_line(),
            lines,
            start: 0,
        });
        self.placed = false;
    }

    /// Adds what another worker learnt about the same file.
    pub fn merge(&mut self, other: LineNumbers) {
        self.chunks.extend(other.chunks);
        self.placed = false;
    }

    /// Puts the chunks in file order and finds where each starts.
    fn place(&mut self) {
        if self.placed {
            return;
        }
        self.chunks.sort_unstable_by_key(|c| c.seq);
        let mut next = 1;
        for chunk in &mut self.chunks {
            chunk.start = chunk.known.unwrap_or(next);
            next = chunk.start + chunk.lines;
        }
        self.placed = true;
    }

    /// The file's number of the line that chunk `seq` numbered `line`. A line of a chunk the
    /// reader had numbered keeps its number, and so does one of a chunk that was not counted
    /// (none is: every chunk a worker parses is counted).
    pub fn file_line(&mut self, seq: u64, line: u64) -> u64 {
        self.place();
        match self.chunks.binary_search_by_key(&seq, |c| c.seq) {
            Ok(at) => match self.chunks.get(at) {
                Some(c) if c.known.is_none() => c.start + line.saturating_sub(1),
                _ => line,
            },
            Err(_) => line,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::chunk::Layout;

    fn chunk(seq: u64, first_line: Option<u64>) -> Chunk {
        Chunk {
            data: Vec::new(),
            seq,
            first_line,
            layout: Layout::Bare,
            line_cut: false,
        }
    }

    #[test]
    fn chunks_counted_in_any_order_place_their_lines_in_the_file() {
        // A header line before the first chunk (counted by the reader), then three uncounted
        // chunks of 10, 7 and 5 lines, gathered by two workers out of order.
        let mut a = LineNumbers::default();
        let mut b = LineNumbers::default();
        b.count(&chunk(2, None), 7);
        a.count(&chunk(0, Some(2)), 4);
        b.count(&chunk(3, None), 5);
        a.count(&chunk(1, None), 10);
        a.merge(b);
        assert_eq!(a.file_line(0, 3), 3, "numbered by the reader: kept");
        assert_eq!(a.file_line(1, 1), 6);
        assert_eq!(a.file_line(1, 10), 15);
        assert_eq!(a.file_line(2, 1), 16);
        assert_eq!(a.file_line(3, 5), 27);
        assert_eq!(
            a.file_line(9, 4),
            4,
            "a chunk nobody counted keeps its numbers"
        );
    }
}
