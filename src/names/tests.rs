use super::*;

#[test]
fn nat_gateway_ids_are_nat_and_8_or_17_lowercase_hex_digits() {
    for good in ["nat-01234567", "nat-0123456789abcdef0"] {
        assert_eq!(good.parse::<NatGatewayId>().unwrap(), good);
    }
    for bad in [
        "nat-123",
        "nat-0123456789ABCDEF0",
        "igw-01234567",
        "nat-0123456789abcdef",
    ] {
        let err = bad.parse::<NatGatewayId>().unwrap_err();
        assert_eq!(err.expected, NatGatewayId::EXPECTED, "{bad}");
        assert!(err.to_string().contains(bad), "{err}");
    }
}

#[test]
fn regions_have_a_two_letter_area_words_and_a_number() {
    for good in ["us-east-1", "us-gov-west-1", "cn-north-1", "eu-central-2"] {
        assert!(good.parse::<Region>().is_ok(), "{good}");
    }
    for bad in ["useast1", "us-east", "USA-east-1", "us--1", "u-east-1"] {
        assert!(bad.parse::<Region>().is_err(), "{bad}");
    }
}

#[test]
fn role_arns_give_partition_account_and_name() {
    let role: RoleArn = "arn:aws-us-gov:iam::123456789012:role/path/to/r"
        .parse()
        .unwrap();
    assert_eq!(role.partition(), "aws-us-gov");
    assert_eq!(role.account(), "123456789012");
    assert_eq!(role.name(), "r");
    assert_eq!(
        role.to_string(),
        "arn:aws-us-gov:iam::123456789012:role/path/to/r"
    );
    for bad in [
        "nat-flowrec-delivery",
        "arn:aws:iam::12345:role/x",
        "arn:aws:iam::123456789012:user/x",
        "arn:aws:iam::123456789012:role/",
        "arn:aws:iam::123456789012:role/path/",
        "arn:aws:sts::123456789012:role/x",
        "arn:AWS:iam::123456789012:role/x",
        "arn:aws:iam:us-east-1:123456789012:role/x",
    ] {
        let err = bad.parse::<RoleArn>().unwrap_err();
        assert_eq!(err.expected, RoleArn::EXPECTED, "{bad}");
    }
}

#[test]
fn role_names_come_from_arns_with_or_without_a_path() {
    let name = |arn: &str| arn.parse::<RoleArn>().map(|r| r.name().to_owned());
    assert_eq!(
        name("arn:aws:iam::123456789012:role/nat-flowrec-delivery").unwrap(),
        "nat-flowrec-delivery"
    );
    assert_eq!(
        name("arn:aws:iam::123456789012:role/service/flow/delivery").unwrap(),
        "delivery"
    );
    assert!(name("delivery").is_err());
}

#[test]
fn topic_arns_give_region_account_and_name() {
    let topic: TopicArn = "arn:aws:sns:eu-west-1:123456789012:nat-alerts.fifo"
        .parse()
        .unwrap();
    assert_eq!(topic.region(), "eu-west-1");
    assert_eq!(topic.account(), "123456789012");
    assert_eq!(topic.name(), "nat-alerts.fifo");
    for bad in [
        "my-topic",
        "arn:aws:sns:us-east-1:123456789012",
        "arn:aws:sns:us-east-1:123456789012:",
        "arn:aws:sns:us-east-1:123456789012:a:b",
        "arn:aws:sqs:us-east-1:123456789012:q",
        "arn:aws:sns:useast1:123456789012:t",
    ] {
        assert!(bad.parse::<TopicArn>().is_err(), "{bad}");
    }
}

#[test]
fn arn_parts_keep_the_colons_of_the_resource() {
    let arn = ArnParts::split("arn:aws:logs:us-east-1:123456789012:log-group:/x:*").unwrap();
    assert_eq!(arn.service, "logs");
    assert_eq!(arn.account, "123456789012");
    assert_eq!(arn.resource, "log-group:/x:*");
    assert_eq!(ArnParts::split("arn:aws:logs"), None);
    assert_eq!(ArnParts::split("urn:aws:logs:r:a:x"), None);
}

#[test]
fn s3_uris_split_into_bucket_and_prefix() {
    let uri: S3Uri = "s3://bucket/reports/".parse().unwrap();
    assert_eq!((uri.bucket(), uri.prefix()), ("bucket", "reports"));
    assert_eq!(uri.to_string(), "s3://bucket/reports/");
    assert_eq!(uri.key("r-1/report"), "reports/r-1/report");
    let whole: S3Uri = "s3://bucket".parse().unwrap();
    assert_eq!((whole.bucket(), whole.prefix()), ("bucket", ""));
    assert_eq!(whole.key("r-1/report"), "r-1/report");
    for bad in ["bucket/prefix", "https://reports", "s3://", "s3:///x"] {
        let err = bad.parse::<S3Uri>().unwrap_err();
        assert_eq!(err.expected, S3Uri::EXPECTED, "{bad}");
    }
}

#[test]
fn s3_objects_need_a_bucket_name_and_a_key() {
    let object: S3Object = "s3://my-bucket/nat-flowrec/events.jsonl".parse().unwrap();
    assert_eq!(object.bucket(), "my-bucket");
    assert_eq!(object.key(), "nat-flowrec/events.jsonl");
    assert_eq!(
        object,
        S3Object::new("my-bucket", "nat-flowrec/events.jsonl")
    );
    assert!(S3Object::in_text("events.jsonl").is_none());
    for bad in [
        "s3://my-bucket",
        "s3://My_Bucket/events.jsonl",
        "s3://my-bucket/dir/",
    ] {
        assert!(S3Object::in_text(bad).unwrap().is_err(), "{bad}");
    }
    let err = "s3://My_Bucket/e".parse::<S3Object>().unwrap_err();
    assert!(
        err.expected
            .contains("`My_Bucket` is not an S3 bucket name"),
        "{err}"
    );
}

#[test]
fn names_are_their_text_in_serde() {
    let role: RoleArn = serde_json::from_str("\"arn:aws:iam::123456789012:role/d\"").unwrap();
    assert_eq!(
        serde_json::to_string(&role).unwrap(),
        "\"arn:aws:iam::123456789012:role/d\""
    );
    let err = serde_json::from_str::<NatGatewayId>("\"nat-1\"").unwrap_err();
    assert!(err.to_string().contains(NatGatewayId::EXPECTED), "{err}");
}

#[test]
fn a_name_error_comes_back_from_its_message() {
    let err = "s3://My_Bucket/e".parse::<S3Object>().unwrap_err();
    assert_eq!(NameError::from_message(&err.to_string()), Some(err));
    assert_eq!(NameError::from_message("invalid type: integer `5`"), None);
}
