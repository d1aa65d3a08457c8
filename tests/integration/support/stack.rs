//! The CloudFormation template deployed into moto (`deploy`), what moto made of it (`Stack`),
//! and what the template's text says where moto keeps nothing.

use std::collections::BTreeMap;

use serde_json::Value;

use super::moto::{Moto, raw_call, sdk_in};

pub const TEMPLATE: &str = "deploy/nat-flowrec.yaml";
/// moto's account.
pub const ACCOUNT: &str = "123456789012";
/// The resources moto's CloudFormation does not create, asserted in the template instead.
pub const NOT_IN_MOTO: &[&str] = &[
    "StateBucketPolicy",
    "NotificationSubscription",
    "CheckSchedule",
];

/// A stack moto created from the template.
pub struct Stack {
    pub region: String,
    pub parameters: BTreeMap<String, String>,
    pub outputs: BTreeMap<String, String>,
    /// Logical id -> (type, physical id), for the resources moto created.
    pub resources: BTreeMap<String, (String, String)>,
}

pub fn template() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(TEMPLATE);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `<tag>text</tag>` in `xml`, in order (moto's query-protocol answers are flat enough).
pub fn xml_values<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut values = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        values.push(&after[..end]);
        rest = &after[end + close.len()..];
    }
    values
}

/// `<member>` blocks of `xml` as (key tag -> value) maps.
pub fn xml_members(xml: &str, key: &str, value: &str) -> BTreeMap<String, String> {
    xml.split("<member>")
        .skip(1)
        .filter_map(|m| {
            let k = xml_values(m, key).first().copied()?;
            let v = xml_values(m, value).first().copied().unwrap_or_default();
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

pub fn cloudformation(moto: &Moto, region: &str, params: &[(&str, &str)]) -> String {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("Version", "2010-05-15")
        .extend_pairs(params)
        .finish();
    let (status, xml) = raw_call(
        moto,
        "cloudformation",
        region,
        ("POST", "/"),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &body,
    );
    assert_eq!(status, 200, "CloudFormation {params:?}: {xml}");
    xml
}

/// Creates stack `name` from the template in `region` with `parameters` (CodeBucket and CodeKey
/// are given: an artifact bucket with a zip is made for them).
pub async fn deploy(moto: &Moto, region: &str, name: &str, parameters: &[(&str, &str)]) -> Stack {
    let sdk = sdk_in(moto, region).await;
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let artifacts = format!("{name}-artifacts");
    s3.create_bucket()
        .bucket(&artifacts)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(region.into())
                .build(),
        )
        .send()
        .await
        .expect("moto CreateBucket (artifacts)");
    // An empty zip archive: moto stores the code, never runs it.
    let empty_zip = [b"PK\x05\x06".as_slice(), &[0u8; 18]].concat();
    s3.put_object()
        .bucket(&artifacts)
        .key("nat-flowrec/bootstrap.zip")
        .body(empty_zip.into())
        .send()
        .await
        .expect("moto PutObject (the function's zip)");

    let template = template();
    let mut params: Vec<(String, String)> = vec![
        ("Action".into(), "CreateStack".into()),
        ("StackName".into(), name.into()),
        ("TemplateBody".into(), template),
        ("Capabilities.member.1".into(), "CAPABILITY_IAM".into()),
    ];
    let given = [("CodeBucket", artifacts.as_str())]
        .into_iter()
        .chain(parameters.iter().copied());
    for (i, (key, value)) in given.enumerate() {
        params.push((
            format!("Parameters.member.{}.ParameterKey", i + 1),
            key.into(),
        ));
        params.push((
            format!("Parameters.member.{}.ParameterValue", i + 1),
            value.into(),
        ));
    }
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    cloudformation(moto, region, &pairs);

    let described = cloudformation(
        moto,
        region,
        &[("Action", "DescribeStacks"), ("StackName", name)],
    );
    let status = xml_values(&described, "StackStatus");
    assert_eq!(
        status,
        ["CREATE_COMPLETE"],
        "the stack did not deploy: {described}"
    );
    let listed = cloudformation(
        moto,
        region,
        &[("Action", "ListStackResources"), ("StackName", name)],
    );
    let types = xml_members(&listed, "LogicalResourceId", "ResourceType");
    let physical = xml_members(&listed, "LogicalResourceId", "PhysicalResourceId");
    Stack {
        region: region.into(),
        parameters: xml_members(&described, "ParameterKey", "ParameterValue"),
        outputs: xml_members(&described, "OutputKey", "OutputValue"),
        resources: types
            .into_iter()
            .filter(|(logical, _)| !logical.is_empty())
            .map(|(logical, kind)| {
                let id = physical.get(&logical).cloned().unwrap_or_default();
                (logical, (kind, id))
            })
            .collect(),
    }
}

impl Stack {
    pub fn physical(&self, logical: &str) -> &str {
        &self
            .resources
            .get(logical)
            .unwrap_or_else(|| panic!("moto created no {logical}: {:?}", self.resources))
            .1
    }

    pub fn output(&self, key: &str) -> &str {
        self.outputs
            .get(key)
            .unwrap_or_else(|| panic!("no output {key}: {:?}", self.outputs))
    }

    /// GetFunctionConfiguration of the stack's function, as moto's Lambda holds it.
    pub fn function(&self, moto: &Moto) -> Value {
        self.lambda(moto, "2015-03-31", "configuration")
    }

    /// The function's environment variables, as Lambda would give them to `bootstrap`.
    pub fn function_environment(&self, moto: &Moto) -> BTreeMap<String, String> {
        let function = self.function(moto);
        let vars = function["Environment"]["Variables"]
            .as_object()
            .unwrap_or_else(|| panic!("no environment: {function}"));
        vars.iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect()
    }

    pub fn lambda(&self, moto: &Moto, version: &str, what: &str) -> Value {
        let path = format!(
            "/{version}/functions/{}/{what}",
            self.output("FunctionName")
        );
        let (status, body) = raw_call(moto, "lambda", &self.region, ("GET", &path), &[], "");
        assert_eq!(status, 200, "Lambda GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
    }
}

/// The text of one resource of the template (its key line and everything indented under it).
pub fn resource_text(template: &str, logical: &str) -> String {
    let key = format!("  {logical}:");
    let start = template
        .lines()
        .position(|l| l == key)
        .unwrap_or_else(|| panic!("{TEMPLATE} has no resource {logical}"));
    template
        .lines()
        .skip(start + 1)
        .take_while(|l| l.is_empty() || l.starts_with("    "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The template's resources: logical id -> type.
pub fn template_resources(template: &str) -> BTreeMap<String, String> {
    let section = template
        .split("\nResources:\n")
        .nth(1)
        .and_then(|rest| rest.split("\nOutputs:\n").next())
        .expect("a Resources section before Outputs");
    let mut resources = BTreeMap::new();
    let mut lines = section.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':'))
            && !name.starts_with([' ', '#'])
        {
            let kind = lines
                .peek()
                .and_then(|l| l.trim().strip_prefix("Type: "))
                .unwrap_or_else(|| panic!("{name}: Type is not its first property"));
            resources.insert(name.to_string(), kind.to_string());
        }
    }
    resources
}

/// The template's `MemorySize` for the function (the measured need plus headroom).
pub fn template_memory_mb() -> u64 {
    let function = resource_text(&template(), "Function");
    function
        .lines()
        .find_map(|l| l.trim().strip_prefix("MemorySize: "))
        .and_then(|v| v.parse().ok())
        .expect("the function's MemorySize")
}
