//! The report's renderings, one module each: terminal text (default), CSV (`--csv`, and every
//! table for `--out DIR`), JSON, Markdown, a self-contained HTML page with charts, the
//! `--out DIR` writer, the e-mail summary, and a one-line sparkline of a NAT's bytes a minute.

mod charts;
pub mod csv;
mod email;
mod fixes;
mod html;
pub mod json;
mod markdown;
mod out_dir;
mod sections;
mod sparkline;
mod terminal;
mod text_table;

pub use email::{EMAIL_MAX_BYTES, email_summary};
pub use fixes::{action_heading, is_net_loss, month_headline};
pub use html::html;
pub use json::json;
pub use markdown::markdown;
pub use out_dir::{OUT_FILES, write_atomically, write_out_dir};
pub use sparkline::sparkline;
pub use terminal::terminal;
