//! The log format: which fields a flow-log line holds, in which order. It is parsed from the exact
//! string `CreateFlowLogs` takes (`${srcaddr} ${dstaddr} ...`) or from the header line of an
//! S3-delivered file (`srcaddr dstaddr ...`), and renders back to both.

use std::fmt;

use nom::{
    IResult, Parser,
    bytes::complete::{tag, take_till1, take_while1},
    character::complete::multispace0,
    combinator::all_consuming,
    multi::many0,
    sequence::{delimited, terminated},
};

use crate::field::Field;

/// nat-flowrec's default recording format (14 fields): enough to tell the two NAT legs
/// apart (`pkt-*` addresses) and to name AWS services reached through the NAT.
pub const DEFAULT_FORMAT: &str = "${action} ${flow-direction} ${traffic-path} ${srcaddr} ${srcport} ${dstaddr} ${dstport} ${protocol} ${bytes} ${type} ${pkt-srcaddr} ${pkt-src-aws-service} ${pkt-dstaddr} ${pkt-dst-aws-service}";

/// AWS's own default format (version 2, 14 fields), what a flow log created without a format has.
pub const AWS_DEFAULT_V2_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}";

const DEFAULT_FIELDS: [Field; 14] = [
    Field::Action,
    Field::FlowDirection,
    Field::TrafficPath,
    Field::Srcaddr,
    Field::Srcport,
    Field::Dstaddr,
    Field::Dstport,
    Field::Protocol,
    Field::Bytes,
    Field::Type,
    Field::PktSrcaddr,
    Field::PktSrcAwsService,
    Field::PktDstaddr,
    Field::PktDstAwsService,
];

const AWS_DEFAULT_V2_FIELDS: [Field; 14] = [
    Field::Version,
    Field::AccountId,
    Field::InterfaceId,
    Field::Srcaddr,
    Field::Dstaddr,
    Field::Srcport,
    Field::Dstport,
    Field::Protocol,
    Field::Packets,
    Field::Bytes,
    Field::Start,
    Field::End,
    Field::Action,
    Field::LogStatus,
];

/// What a valid format looks like, quoted by every [`FormatError`].
const VALID_FORMAT: &str = "a format is `${field}` tokens separated by spaces, e.g. `${srcaddr} ${dstaddr} ${bytes}`; field names use letters, digits, `-` and `_`";

/// The ordered fields of a flow-log line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LogFormat {
    fields: Vec<Field>,
}

/// Why one token of a format string (or header line) is not a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// The token does not start with `${`.
    MissingOpen,
    /// The token has no closing `}`.
    MissingClose,
    /// `${}`: the braces name no field.
    EmptyName,
    /// A character that cannot be part of a field name.
    BadCharacter(char),
    /// Text follows the closing `}` (e.g. `${a}${b}` without a space).
    TrailingText,
    /// The same field appears twice; `first` is the 1-based position of its first occurrence.
    Duplicate { first: usize },
}

impl fmt::Display for TokenProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenProblem::MissingOpen => f.write_str("does not start with `${`"),
            TokenProblem::MissingClose => f.write_str("has no closing `}`"),
            TokenProblem::EmptyName => f.write_str("names no field"),
            TokenProblem::BadCharacter(c) => {
                write!(f, "has the character {c:?}, which no field name contains")
            }
            TokenProblem::TrailingText => {
                f.write_str("has text after its closing `}` (separate fields with a space)")
            }
            TokenProblem::Duplicate { first } => write!(
                f,
                "repeats the field of token {first} (each field may appear once)"
            ),
        }
    }
}

/// A format string or header line that does not describe a flow-log format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// No field at all.
    #[error("the log format is empty; {VALID_FORMAT}")]
    Empty,
    /// One token is wrong; `position` is 1-based.
    #[error("log format token {position} `{token}` {problem}; {VALID_FORMAT}")]
    BadToken {
        position: usize,
        token: String,
        problem: TokenProblem,
    },
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Splits on any whitespace run (AWS writes single spaces; people paste tabs and double spaces).
fn tokens(input: &str) -> IResult<&str, Vec<&str>> {
    all_consuming(delimited(
        multispace0,
        many0(terminated(take_till1(char::is_whitespace), multispace0)),
        multispace0,
    ))
    .parse(input)
}

/// `${name}` -> `name`.
fn field_token(input: &str) -> IResult<&str, &str> {
    all_consuming(delimited(tag("${"), take_while1(is_name_char), tag("}"))).parse(input)
}

/// Says precisely why `token` is not a `${field}` token (only called once nom has refused it).
fn diagnose_token(token: &str) -> TokenProblem {
    let Some(rest) = token.strip_prefix("${") else {
        return TokenProblem::MissingOpen;
    };
    let Some(close) = rest.find('}') else {
        return TokenProblem::MissingClose;
    };
    let name = rest.get(..close).unwrap_or_default();
    let after = rest.get(close + 1..).unwrap_or_default();
    if let Some(bad) = name.chars().find(|c| !is_name_char(*c)) {
        TokenProblem::BadCharacter(bad)
    } else if name.is_empty() {
        TokenProblem::EmptyName
    } else if !after.is_empty() {
        TokenProblem::TrailingText
    } else {
        TokenProblem::MissingClose
    }
}

impl LogFormat {
    /// Parses the AWS syntax `${field} ${field} ...` (what `CreateFlowLogs` takes as `LogFormat`).
    /// Unknown field names are accepted; a malformed token or a repeated field is an error naming
    /// the token's 1-based position.
    pub fn parse(s: &str) -> Result<LogFormat, FormatError> {
        let (_, toks) = tokens(s).map_err(|_| FormatError::Empty)?;
        let mut fields = Vec::with_capacity(toks.len());
        for (i, token) in toks.iter().enumerate() {
            let name = match field_token(token) {
                Ok((_, name)) => name,
                Err(_) => return Err(bad_token(i, token, diagnose_token(token))),
            };
            fields.push((token, Field::from_name(name)));
        }
        Self::from_named_tokens(fields)
    }

    /// Parses the header line of an S3-delivered file: field names separated by spaces
    /// (`version account-id interface-id ...`).
    pub fn from_header(line: &str) -> Result<LogFormat, FormatError> {
        let (_, toks) = tokens(line).map_err(|_| FormatError::Empty)?;
        let mut fields = Vec::with_capacity(toks.len());
        for (i, token) in toks.iter().enumerate() {
            if let Some(bad) = token.chars().find(|c| !is_name_char(*c)) {
                return Err(bad_token(i, token, TokenProblem::BadCharacter(bad)));
            }
            fields.push((token, Field::from_name(token)));
        }
        Self::from_named_tokens(fields)
    }

    /// A format from a list of fields; a repeated field is an error.
    pub fn from_fields(fields: Vec<Field>) -> Result<LogFormat, FormatError> {
        if fields.is_empty() {
            return Err(FormatError::Empty);
        }
        for (i, field) in fields.iter().enumerate() {
            if let Some(first) = fields.iter().take(i).position(|f| f == field) {
                return Err(bad_token(
                    i,
                    &format!("${{{}}}", field.name()),
                    TokenProblem::Duplicate { first: first + 1 },
                ));
            }
        }
        Ok(LogFormat { fields })
    }

    fn from_named_tokens(named: Vec<(&&str, Field)>) -> Result<LogFormat, FormatError> {
        if named.is_empty() {
            return Err(FormatError::Empty);
        }
        for (i, (token, field)) in named.iter().enumerate() {
            if let Some(first) = named.iter().take(i).position(|(_, f)| f == field) {
                return Err(bad_token(
                    i,
                    token,
                    TokenProblem::Duplicate { first: first + 1 },
                ));
            }
        }
        Ok(LogFormat {
            fields: named.into_iter().map(|(_, field)| field).collect(),
        })
    }

    /// AWS's own default (version 2) format: [`AWS_DEFAULT_V2_FORMAT`].
    pub fn aws_default_v2() -> LogFormat {
        LogFormat {
            fields: AWS_DEFAULT_V2_FIELDS.to_vec(),
        }
    }

    /// The fields, in line order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Whether a line in this format carries `field`.
    pub fn contains(&self, field: &Field) -> bool {
        self.fields.contains(field)
    }

    /// The 0-based position of `field` in a line, if the format has it.
    pub fn position(&self, field: &Field) -> Option<usize> {
        self.fields.iter().position(|f| f == field)
    }

    /// Number of fields (= space-separated values per line).
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Always false for a parsed format (a format has at least one field); here for clippy's sake.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The header line an S3-delivered file of this format starts with: `a b c`.
    pub fn header_line(&self) -> String {
        let names: Vec<&str> = self.fields.iter().map(Field::name).collect();
        names.join(" ")
    }
}

fn bad_token(index: usize, token: &str, problem: TokenProblem) -> FormatError {
    FormatError::BadToken {
        position: index + 1,
        token: token.chars().take(60).collect(),
        problem,
    }
}

impl Default for LogFormat {
    /// nat-flowrec's 14-field recording format, [`DEFAULT_FORMAT`].
    fn default() -> LogFormat {
        LogFormat {
            fields: DEFAULT_FIELDS.to_vec(),
        }
    }
}

impl fmt::Display for LogFormat {
    /// The `CreateFlowLogs` syntax, `${a} ${b}`; parses back to the same format.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, field) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "${{{}}}", field.name())?;
        }
        Ok(())
    }
}

impl std::str::FromStr for LogFormat {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<LogFormat, FormatError> {
        LogFormat::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::KNOWN_FIELDS;

    fn problem(s: &str) -> (usize, String, TokenProblem) {
        match LogFormat::parse(s) {
            Err(FormatError::BadToken {
                position,
                token,
                problem,
            }) => (position, token, problem),
            other => panic!("expected a token error for {s:?}, got {other:?}"),
        }
    }

    #[test]
    fn default_constants_match_default_formats() {
        assert_eq!(LogFormat::parse(DEFAULT_FORMAT), Ok(LogFormat::default()));
        assert_eq!(LogFormat::default().to_string(), DEFAULT_FORMAT);
        assert_eq!(
            LogFormat::parse(AWS_DEFAULT_V2_FORMAT),
            Ok(LogFormat::aws_default_v2())
        );
        assert_eq!(
            LogFormat::aws_default_v2().to_string(),
            AWS_DEFAULT_V2_FORMAT
        );
        assert_eq!(LogFormat::default().len(), 14);
    }

    #[test]
    fn every_known_field_parses_and_renders_back() {
        let all = KNOWN_FIELDS
            .iter()
            .map(|f| format!("${{{}}}", f.name()))
            .collect::<Vec<_>>()
            .join(" ");
        let format = LogFormat::parse(&all).expect("all known fields");
        assert_eq!(format.fields(), KNOWN_FIELDS);
        assert_eq!(format.to_string(), all);
        assert_eq!(LogFormat::from_header(&format.header_line()), Ok(format));
    }

    #[test]
    fn unknown_fields_are_accepted() {
        let format = LogFormat::parse("${srcaddr} ${new-field_2}").expect("valid");
        assert_eq!(format.fields()[1], Field::Unknown("new-field_2".into()));
        assert!(format.contains(&Field::Srcaddr));
        assert!(!format.contains(&Field::Dstaddr));
        assert_eq!(
            format.position(&Field::Unknown("new-field_2".into())),
            Some(1)
        );
    }

    #[test]
    fn repeated_whitespace_is_tolerated() {
        let format = LogFormat::parse("  ${srcaddr}\t ${dstaddr}  \n").expect("valid");
        assert_eq!(format.fields(), &[Field::Srcaddr, Field::Dstaddr]);
        assert_eq!(format.to_string(), "${srcaddr} ${dstaddr}");
    }

    #[test]
    fn empty_format_is_an_error() {
        assert_eq!(LogFormat::parse(""), Err(FormatError::Empty));
        assert_eq!(LogFormat::parse("   "), Err(FormatError::Empty));
        assert_eq!(LogFormat::from_header(""), Err(FormatError::Empty));
        assert_eq!(LogFormat::from_fields(vec![]), Err(FormatError::Empty));
    }

    #[test]
    fn malformed_tokens_name_position_text_and_problem() {
        assert_eq!(
            problem("${srcaddr} dstaddr"),
            (2, "dstaddr".into(), TokenProblem::MissingOpen)
        );
        assert_eq!(
            problem("${srcaddr} ${dstaddr"),
            (2, "${dstaddr".into(), TokenProblem::MissingClose)
        );
        assert_eq!(problem("${}"), (1, "${}".into(), TokenProblem::EmptyName));
        assert_eq!(
            problem("${a} ${b} ${src.addr}"),
            (3, "${src.addr}".into(), TokenProblem::BadCharacter('.'))
        );
        assert_eq!(
            problem("${srcaddr}${dstaddr}"),
            (1, "${srcaddr}${dstaddr}".into(), TokenProblem::TrailingText)
        );
        assert_eq!(
            problem("${srcaddr} ${bytes} ${srcaddr}"),
            (3, "${srcaddr}".into(), TokenProblem::Duplicate { first: 1 })
        );
        assert_eq!(
            problem("{srcaddr}"),
            (1, "{srcaddr}".into(), TokenProblem::MissingOpen)
        );
    }

    #[test]
    fn error_messages_say_where_and_what_is_valid() {
        let err = LogFormat::parse("${srcaddr} ${dstaddr")
            .unwrap_err()
            .to_string();
        assert!(err.contains("token 2 `${dstaddr`"), "{err}");
        assert!(err.contains("no closing `}`"), "{err}");
        assert!(
            err.contains("`${field}` tokens separated by spaces"),
            "{err}"
        );
    }

    #[test]
    fn header_lines_parse_field_names() {
        let format = LogFormat::from_header(
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status",
        )
        .expect("header");
        assert_eq!(format, LogFormat::aws_default_v2());
        assert_eq!(
            format.header_line(),
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
        );
        match LogFormat::from_header("srcaddr ${dstaddr}") {
            Err(FormatError::BadToken {
                position: 2,
                problem: TokenProblem::BadCharacter('$'),
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            LogFormat::from_header("srcaddr srcaddr"),
            Err(FormatError::BadToken {
                position: 2,
                problem: TokenProblem::Duplicate { first: 1 },
                ..
            })
        ));
    }

    #[test]
    fn from_fields_rejects_duplicates() {
        assert!(matches!(
            LogFormat::from_fields(vec![Field::Bytes, Field::Bytes]),
            Err(FormatError::BadToken { position: 2, .. })
        ));
        assert_eq!(
            LogFormat::from_fields(vec![Field::Bytes]).map(|f| f.to_string()),
            Ok("${bytes}".to_string())
        );
    }
}
