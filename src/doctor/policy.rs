//! Judges the flow-logs delivery role from its policy documents, without calling IAM's policy
//! simulator (which needs extra permissions): does the trust policy let the VPC Flow Logs
//! service assume it, and do its permission policies allow what delivery to CloudWatch Logs
//! needs. A reading of the documents, not IAM's full evaluation: conditions, permission
//! boundaries and SCPs are not considered, and `NotAction`/`NotResource` statements grant
//! nothing here (so the check can only be stricter than IAM, never looser).

use serde_json::Value;

/// The service that assumes the delivery role.
pub const FLOW_LOGS_PRINCIPAL: &str = "vpc-flow-logs.amazonaws.com";

/// What flow-log delivery to CloudWatch Logs needs (AWS's documented role; CreateLogGroup is
/// left out: nat-flowrec creates the group itself).
pub const DELIVERY_ACTIONS: [&str; 4] = [
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
];

/// The trust policy the fix command sets.
pub const TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"vpc-flow-logs.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// The permission policy the fix command puts on the role.
pub const DELIVERY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents","logs:DescribeLogGroups","logs:DescribeLogStreams"],"Resource":"*"}]}"#;

/// `Err` names what does not parse.
fn statements(document: &str) -> Result<Vec<Value>, String> {
    let v: Value = serde_json::from_str(document).map_err(|e| format!("not JSON ({e})"))?;
    match v.get("Statement") {
        Some(Value::Array(items)) => Ok(items.clone()),
        Some(one @ Value::Object(_)) => Ok(vec![one.clone()]),
        _ => Err("no `Statement`".to_owned()),
    }
}

/// A string or a list of strings.
fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn effect_is(statement: &Value, effect: &str) -> bool {
    statement.get("Effect").and_then(Value::as_str) == Some(effect)
}

/// IAM's wildcard match: `*` any run, `?` one character; actions compare case-insensitively.
pub fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if ignore_case {
        (
            pattern.to_lowercase().chars().collect(),
            text.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    // Iterative match with backtracking to the last `*`.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

/// Whether the trust policy lets the VPC Flow Logs service assume the role.
pub fn trusts_flow_logs(trust_policy: &str) -> Result<bool, String> {
    Ok(statements(trust_policy)?.iter().any(|s| {
        let principal = s.get("Principal");
        let services = strings(principal.and_then(|p| p.get("Service")));
        let anyone = principal.and_then(Value::as_str) == Some("*");
        effect_is(s, "Allow")
            && strings(s.get("Action"))
                .iter()
                .any(|a| glob(a, "sts:AssumeRole", true))
            && (anyone || services.iter().any(|svc| svc == FLOW_LOGS_PRINCIPAL))
    }))
}

/// The delivery actions that no policy allows on the log group (or that one denies).
/// `resources` are the ARNs a grant must cover (the group and its streams).
pub fn missing_actions(
    policies: &[String],
    resources: &[String],
) -> Result<Vec<&'static str>, String> {
    let mut all = Vec::new();
    for p in policies {
        all.extend(statements(p)?);
    }
    let covers = |s: &Value, action: &str| {
        strings(s.get("Action"))
            .iter()
            .any(|a| glob(a, action, true))
            && {
                let res = strings(s.get("Resource"));
                res.iter()
                    .any(|r| r == "*" || resources.iter().any(|arn| glob(r, arn, false)))
            }
    };
    Ok(DELIVERY_ACTIONS
        .into_iter()
        .filter(|action| {
            let allowed = all
                .iter()
                .any(|s| effect_is(s, "Allow") && covers(s, action));
            let denied = all
                .iter()
                .any(|s| effect_is(s, "Deny") && covers(s, action));
            !allowed || denied
        })
        .collect())
}

/// The service that writes flow-log files into an S3 bucket.
pub const LOG_DELIVERY_PRINCIPAL: &str = "delivery.logs.amazonaws.com";

/// Whether a bucket policy lets the log delivery service put a flow-log file under `root`
/// (`<prefix>/AWSLogs/`) of `bucket`, in the accounts its statements name. Deny statements
/// without conditions take it away; conditional ones (such as a deny of plain HTTP) are not
/// judged.
pub fn allows_log_delivery(
    bucket_policy: &str,
    partition: &str,
    bucket: &str,
    root: &str,
) -> Result<bool, String> {
    let all = statements(bucket_policy)?;
    let for_delivery = |s: &Value| {
        let principal = s.get("Principal");
        principal.and_then(Value::as_str) == Some("*")
            || strings(principal.and_then(|p| p.get("Service")))
                .iter()
                .any(|svc| svc == LOG_DELIVERY_PRINCIPAL)
    };
    let covers = |s: &Value| {
        let account = s
            .get("Condition")
            .and_then(|c| c.get("StringEquals"))
            .map(|c| strings(c.get("aws:SourceAccount")))
            .and_then(|a| a.into_iter().next())
            .unwrap_or_else(|| "123456789012".to_owned());
        let file = format!(
            "arn:{partition}:s3:::{bucket}/{root}{account}/vpcflowlogs/r/2025/01/01/f.log.gz"
        );
        strings(s.get("Action"))
            .iter()
            .any(|a| glob(a, "s3:PutObject", true))
            && strings(s.get("Resource"))
                .iter()
                .any(|r| glob(r, &file, false))
    };
    let allowed = all
        .iter()
        .any(|s| effect_is(s, "Allow") && for_delivery(s) && covers(s));
    let denied = all.iter().any(|s| {
        effect_is(s, "Deny") && s.get("Condition").is_none() && for_delivery(s) && covers(s)
    });
    Ok(allowed && !denied)
}

/// The ARNs delivery touches: the log group and a stream in it.
pub fn log_group_arns(region: &str, account: &str, group: &str) -> Vec<String> {
    let base = format!("arn:aws:logs:{region}:{account}:log-group:{group}");
    vec![
        base.clone(),
        format!("{base}:*"),
        format!("{base}:log-stream:eni-0123456789abcdef0-all"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_iam() {
        assert!(glob("logs:*", "logs:PutLogEvents", true));
        assert!(glob("LOGS:putlogevents", "logs:PutLogEvents", true));
        assert!(glob("*", "anything", false));
        assert!(glob("logs:Describe*", "logs:DescribeLogStreams", true));
        assert!(!glob("logs:Describe*", "logs:PutLogEvents", true));
        assert!(glob(
            "arn:aws:logs:*:*:log-group:/nat/*",
            "arn:aws:logs:us-east-1:1:log-group:/nat/x:*",
            false
        ));
        assert!(!glob(
            "arn:aws:logs:*:*:log-group:/other*",
            "arn:aws:logs:us-east-1:1:log-group:/nat/x",
            false
        ));
        assert!(glob("a?c", "abc", false) && !glob("a?c", "ac", false));
    }

    #[test]
    fn the_trust_policy_must_name_the_flow_logs_service() {
        assert_eq!(trusts_flow_logs(TRUST_POLICY), Ok(true));
        let ec2 = TRUST_POLICY.replace(FLOW_LOGS_PRINCIPAL, "ec2.amazonaws.com");
        assert_eq!(trusts_flow_logs(&ec2), Ok(false));
        let list = r#"{"Statement":{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","vpc-flow-logs.amazonaws.com"]},"Action":["sts:AssumeRole"]}}"#;
        assert_eq!(trusts_flow_logs(list), Ok(true));
        assert!(trusts_flow_logs("nope").unwrap_err().contains("not JSON"));
    }

    #[test]
    fn the_shipped_delivery_role_passes() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/iam");
        let fill = |name: &str| {
            std::fs::read_to_string(dir.join(name))
                .unwrap()
                .replace("REGION", "eu-west-1")
                .replace("ACCOUNT_ID", "123456789012")
        };
        assert_eq!(trusts_flow_logs(&fill("delivery-trust.json")), Ok(true));
        let arns = log_group_arns("eu-west-1", "123456789012", "/nat-flowrec/flowlogs");
        let missing = missing_actions(&[fill("delivery-policy.json")], &arns).unwrap();
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn missing_delivery_actions_are_named_and_a_deny_wins() {
        let arns = log_group_arns("us-east-1", "123456789012", "/nat-flowrec/flowlogs");
        assert!(
            missing_actions(&[DELIVERY_POLICY.to_owned()], &arns)
                .unwrap()
                .is_empty()
        );
        let logs_star = r#"{"Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"arn:aws:logs:*:*:log-group:/nat-flowrec/*"}]}"#;
        assert!(
            missing_actions(&[logs_star.to_owned()], &arns)
                .unwrap()
                .is_empty()
        );
        let put_only =
            r#"{"Statement":[{"Effect":"Allow","Action":"logs:PutLogEvents","Resource":"*"}]}"#;
        assert_eq!(
            missing_actions(&[put_only.to_owned()], &arns).unwrap(),
            [
                "logs:CreateLogStream",
                "logs:DescribeLogGroups",
                "logs:DescribeLogStreams"
            ]
        );
        let other_group = r#"{"Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"arn:aws:logs:*:*:log-group:/elsewhere:*"}]}"#;
        assert_eq!(
            missing_actions(&[other_group.to_owned()], &arns)
                .unwrap()
                .len(),
            4
        );
        let deny =
            r#"{"Statement":[{"Effect":"Deny","Action":"logs:PutLogEvents","Resource":"*"}]}"#;
        assert_eq!(
            missing_actions(&[DELIVERY_POLICY.to_owned(), deny.to_owned()], &arns).unwrap(),
            ["logs:PutLogEvents"]
        );
        assert_eq!(missing_actions(&[], &arns).unwrap().len(), 4);
    }

    #[test]
    fn a_bucket_policy_allows_delivery_only_to_the_logs_root_and_not_under_a_plain_deny() {
        let aws = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"delivery.logs.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::flows/nat/AWSLogs/*","Condition":{"StringEquals":{"aws:SourceAccount":"210987654321"}}},{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::flows/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;
        assert_eq!(
            allows_log_delivery(aws, "aws", "flows", "nat/AWSLogs/"),
            Ok(true)
        );
        assert_eq!(
            allows_log_delivery(aws, "aws", "flows", "other/AWSLogs/"),
            Ok(false)
        );
        let someone_else = aws.replace("delivery.logs", "cloudtrail");
        assert_eq!(
            allows_log_delivery(&someone_else, "aws", "flows", "nat/AWSLogs/"),
            Ok(false)
        );
        let denied = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"delivery.logs.amazonaws.com"},"Action":"s3:*","Resource":"arn:aws:s3:::flows/*"},{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*"}]}"#;
        assert_eq!(
            allows_log_delivery(denied, "aws", "flows", "AWSLogs/"),
            Ok(false)
        );
        assert!(allows_log_delivery("{", "aws", "flows", "AWSLogs/").is_err());
    }
}
