//! The report's renderings, one module each: terminal text (default), CSV (`--csv`, and every
//! table for `--out DIR`), JSON, Markdown, the `--out DIR` writer, and the e-mail summary.

pub mod csv;
mod email;
mod fixes;
pub mod json;
mod markdown;
mod out_dir;
mod sections;
mod terminal;
mod text_table;

pub use email::{EMAIL_MAX_BYTES, email_summary};
pub use fixes::{action_heading, is_net_loss, month_headline};
pub use json::json;
pub use markdown::markdown;
pub use out_dir::{OUT_FILES, write_atomically, write_out_dir};
pub use terminal::terminal;
