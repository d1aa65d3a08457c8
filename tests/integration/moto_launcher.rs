//! The Route 53 Resolver operations `tests/moto_launcher.py` adds to moto behave as AWS's API
//! reference documents them: a VPC leaves a query-logging configuration, a configuration is
//! deleted only once no VPC is associated, and its ARN takes tags. The recording's tests rely on
//! them, so a launcher (or moto) that answers otherwise fails here first.

use serde_json::{Value, json};

use crate::support::moto::{Moto, moto, resolver, seed_nat};

fn ok(moto: &Moto, action: &str, body: Value) -> Value {
    let (status, json) = resolver(moto, action, body);
    assert_eq!(status, 200, "Route53Resolver {action}: {json}");
    json
}

fn error_type(json: &Value) -> &str {
    json["__type"].as_str().unwrap_or_default()
}

fn tags(moto: &Moto, arn: &str) -> Vec<(String, String)> {
    let json = ok(moto, "ListTagsForResource", json!({"ResourceArn": arn}));
    let mut tags: Vec<(String, String)> = json["Tags"]
        .as_array()
        .expect("Tags")
        .iter()
        .map(|t| {
            (
                t["Key"].as_str().unwrap().into(),
                t["Value"].as_str().unwrap().into(),
            )
        })
        .collect();
    tags.sort();
    tags
}

#[tokio::test]
async fn query_log_configs_disassociate_delete_and_take_tags_as_aws_documents() {
    let moto = moto();
    let ec2 = aws_sdk_ec2::Client::new(&moto.sdk_config().await);
    let vpc = seed_nat(&ec2, 171).await.vpc_id;

    let created = ok(
        moto,
        "CreateResolverQueryLogConfig",
        json!({
            "Name": "launcher-test",
            "DestinationArn": "arn:aws:logs:us-east-1:123456789012:log-group:/launcher-test",
            "CreatorRequestId": "launcher-test-1",
            "Tags": [{"Key": "nat-flowrec:recording", "Value": "launcher-test-1"}],
        }),
    );
    let config = &created["ResolverQueryLogConfig"];
    let id = config["Id"].as_str().expect("Id").to_owned();
    let arn = config["Arn"].as_str().expect("Arn").to_owned();

    // Tags: given at creation, added, removed.
    assert_eq!(
        tags(moto, &arn),
        [("nat-flowrec:recording".into(), "launcher-test-1".into())]
    );
    ok(
        moto,
        "TagResource",
        json!({"ResourceArn": arn, "Tags": [{"Key": "nat-flowrec:deadline", "Value": "2031-05-06T07:08:09Z"}]}),
    );
    assert_eq!(tags(moto, &arn).len(), 2);
    ok(
        moto,
        "UntagResource",
        json!({"ResourceArn": arn, "TagKeys": ["nat-flowrec:deadline"]}),
    );
    assert_eq!(
        tags(moto, &arn),
        [("nat-flowrec:recording".into(), "launcher-test-1".into())]
    );

    ok(
        moto,
        "AssociateResolverQueryLogConfig",
        json!({"ResolverQueryLogConfigId": id, "ResourceId": vpc}),
    );

    // Deleting while a VPC is associated is refused, and the configuration stays.
    let (status, refused) = resolver(
        moto,
        "DeleteResolverQueryLogConfig",
        json!({"ResolverQueryLogConfigId": id}),
    );
    assert_eq!(status, 400, "{refused}");
    assert_eq!(error_type(&refused), "InvalidRequestException", "{refused}");
    ok(
        moto,
        "GetResolverQueryLogConfig",
        json!({"ResolverQueryLogConfigId": id}),
    );

    // Disassociating: the association is DELETING, then gone; a second time it is not found.
    let left = ok(
        moto,
        "DisassociateResolverQueryLogConfig",
        json!({"ResolverQueryLogConfigId": id, "ResourceId": vpc}),
    );
    let association = &left["ResolverQueryLogConfigAssociation"];
    assert_eq!(association["Status"], "DELETING");
    assert_eq!(association["ResourceId"], vpc.as_str());
    let remaining = ok(
        moto,
        "ListResolverQueryLogConfigAssociations",
        json!({"Filters": [{"Name": "ResolverQueryLogConfigId", "Values": [id]}]}),
    );
    assert_eq!(
        remaining["ResolverQueryLogConfigAssociations"],
        json!([]),
        "{remaining}"
    );
    let (status, again) = resolver(
        moto,
        "DisassociateResolverQueryLogConfig",
        json!({"ResolverQueryLogConfigId": id, "ResourceId": vpc}),
    );
    assert_eq!(status, 400, "{again}");
    assert_eq!(error_type(&again), "ResourceNotFoundException", "{again}");

    // Deleting with no VPC left: DELETING, then the configuration and its tags are gone.
    let deleted = ok(
        moto,
        "DeleteResolverQueryLogConfig",
        json!({"ResolverQueryLogConfigId": id}),
    );
    assert_eq!(deleted["ResolverQueryLogConfig"]["Status"], "DELETING");
    assert_eq!(deleted["ResolverQueryLogConfig"]["AssociationCount"], 0);
    let (status, gone) = resolver(
        moto,
        "GetResolverQueryLogConfig",
        json!({"ResolverQueryLogConfigId": id}),
    );
    assert_eq!(status, 400, "{gone}");
    assert_eq!(error_type(&gone), "ResourceNotFoundException", "{gone}");
    let (status, no_tags) = resolver(moto, "ListTagsForResource", json!({"ResourceArn": arn}));
    assert_eq!(status, 400, "{no_tags}");
    assert_eq!(
        error_type(&no_tags),
        "ResourceNotFoundException",
        "{no_tags}"
    );
}
