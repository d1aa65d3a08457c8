//! An error and its causes as one line, each text once. Errors here name their cause in their
//! own message (`cannot read x.toml: No such file or directory (os error 2)`) and also return it
//! as their `source()`; printing every link of the chain would say the OS's words twice.

use std::error::Error;

/// The links' messages joined by `: `, leaving out empty ones and ones already said.
pub fn once_each<'a>(links: impl IntoIterator<Item = &'a (dyn Error + 'static)>) -> String {
    let mut out = String::new();
    for link in links {
        let text = link.to_string();
        let text = text.trim();
        if text.is_empty() || out.contains(text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(text);
    }
    out
}

/// `err` and its sources, each text once.
pub fn describe(err: &(dyn Error + 'static)) -> String {
    once_each(std::iter::successors(Some(err), |e| Error::source(*e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated_and_empty_links_vanish() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let err = anyhow::Error::new(io)
            .context("cannot read x.toml: no such file")
            .context("");
        assert_eq!(once_each(err.chain()), "cannot read x.toml: no such file");
        let err = anyhow::anyhow!("inner").context("outer");
        assert_eq!(once_each(err.chain()), "outer: inner");
    }
}
