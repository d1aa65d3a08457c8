//! Human-readable numbers and names for the text outputs: bytes in decimal units (1 KB = 1000 B,
//! as AWS bills; the outputs say so), counts with thousands separators, money in USD, AWS
//! services by their usual names (CSV and JSON keep the flow-log tokens).

/// The note every human-readable output carries.
pub const UNITS_NOTE: &str = "units: 1 KB = 10^3 B, 1 MB = 10^6 B, 1 GB = 10^9 B (as AWS bills)";

/// `1234567` -> `1.23 MB`; below 1000, `512 B`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KB", "MB", "GB", "TB", "PB", "EB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.995 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.2} {}", UNITS[unit])
}

/// `1234567` -> `1,234,567`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `$1,234.57`, `$12.50`, `<$0.01`: at most two decimals with thousands separators; an amount
/// below a cent is shown as such rather than as `$0.00`. Prices per unit (`$0.045/GB`) are not
/// amounts and are written as they are.
pub fn usd(amount: f64) -> String {
    if !amount.is_finite() || amount == 0.0 {
        return "$0.00".to_string();
    }
    let sign = if amount < 0.0 { "-" } else { "" };
    let cents = (amount.abs() * 100.0).round();
    if cents < 1.0 {
        return format!("{sign}<$0.01");
    }
    let whole = (cents / 100.0).trunc() as u64;
    let rest = (cents % 100.0) as u64;
    format!("{sign}${}.{rest:02}", grouped(whole))
}

/// An AWS service as people write it (`DynamoDB`, `API Gateway`), from the token flow logs and
/// AWS's ip-ranges use (`DYNAMODB`, `API_GATEWAY`); an unknown token is shown as it is.
pub fn service_name(token: &str) -> &str {
    match token {
        "AMAZON" => "Amazon",
        "AMAZON_APPFLOW" => "AppFlow",
        "AMAZON_CONNECT" => "Amazon Connect",
        "API_GATEWAY" => "API Gateway",
        "CHIME_MEETINGS" => "Chime meetings",
        "CHIME_VOICECONNECTOR" => "Chime Voice Connector",
        "CLOUD9" => "Cloud9",
        "CLOUDFRONT" => "CloudFront",
        "CODEBUILD" => "CodeBuild",
        "DYNAMODB" => "DynamoDB",
        "EBS" => "EBS",
        "EC2" => "EC2",
        "EC2_INSTANCE_CONNECT" => "EC2 Instance Connect",
        "GLOBALACCELERATOR" => "Global Accelerator",
        "KINESIS_VIDEO_STREAMS" => "Kinesis Video Streams",
        "ROUTE53" => "Route 53",
        "ROUTE53_HEALTHCHECKS" => "Route 53 health checks",
        "ROUTE53_HEALTHCHECKS_PUBLISHING" => "Route 53 health checks publishing",
        "ROUTE53_RESOLVER" => "Route 53 Resolver",
        "S3" => "S3",
        "WORKSPACES_GATEWAYS" => "WorkSpaces gateways",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_use_decimal_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1000), "1.00 KB");
        assert_eq!(human_bytes(1_234_567), "1.23 MB");
        assert_eq!(human_bytes(999_999), "1.00 MB");
        assert_eq!(human_bytes(5_000_000_000), "5.00 GB");
        assert_eq!(human_bytes(u64::MAX), "18.45 EB");
    }

    #[test]
    fn money_has_two_decimals_thousands_separators_and_a_floor_of_one_cent() {
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(0.00013554), "<$0.01");
        assert_eq!(usd(0.045), "$0.05");
        assert_eq!(usd(4.56789), "$4.57");
        assert_eq!(usd(12.5), "$12.50");
        assert_eq!(usd(1234.567), "$1,234.57");
        assert_eq!(usd(1_234_567.891), "$1,234,567.89");
        assert_eq!(usd(-13.6), "-$13.60");
        assert_eq!(usd(f64::NAN), "$0.00");
    }

    #[test]
    fn services_are_named_as_people_write_them() {
        assert_eq!(service_name("DYNAMODB"), "DynamoDB");
        assert_eq!(service_name("API_GATEWAY"), "API Gateway");
        assert_eq!(service_name("EC2"), "EC2");
        assert_eq!(service_name("NEW_SERVICE"), "NEW_SERVICE");
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }
}
