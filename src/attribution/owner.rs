//! Who owns a network interface, in words a person recognises: the instance and its `Name` tag,
//! or what the interface's description, type and requester say (Lambda function, ECS task, EKS
//! pod ENI, load balancer, VPC endpoint, NAT gateway, an AWS-managed service). Pure: the caller
//! has already asked AWS.

use nat_flowrec_reports::Owner;

use crate::ports::NetworkInterface;

/// The owner of `eni`; `instance_name` is the `Name` tag of the instance it is attached to.
pub fn owner_of(eni: &NetworkInterface, instance_name: Option<&str>) -> Owner {
    let (name, kind) = describe(eni, instance_name);
    Owner {
        name,
        kind: kind.to_owned(),
        interface_id: Some(eni.id.clone()),
        subnet_id: eni.subnet_id.clone(),
        vpc_id: eni.vpc_id.clone(),
        az: eni.availability_zone.clone(),
    }
}

fn tag<'a>(eni: &'a NetworkInterface, key: &str) -> Option<&'a str> {
    eni.tags
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn describe(eni: &NetworkInterface, instance_name: Option<&str>) -> (String, &'static str) {
    let description = eni.description.as_deref().unwrap_or("");
    let interface_type = eni.interface_type.as_deref().unwrap_or("");

    if let Some(instance) = &eni.instance_id {
        let named = match instance_name {
            Some(name) => format!("{instance} ({name})"),
            None => instance.clone(),
        };
        // The VPC CNI's secondary interfaces carry pod addresses of the node they sit on.
        return if description.starts_with("aws-K8S-") {
            (format!("EKS pod on {named}"), "eks-pod")
        } else {
            (named, "instance")
        };
    }
    if interface_type == "lambda" || description.starts_with("AWS Lambda VPC ENI-") {
        let function = description
            .strip_prefix("AWS Lambda VPC ENI-")
            .map(strip_uuid)
            .filter(|f| !f.is_empty());
        return match function {
            Some(f) => (format!("Lambda {f}"), "lambda"),
            None => ("Lambda function".to_owned(), "lambda"),
        };
    }
    if let Some(service) = tag(eni, "aws:ecs:serviceName") {
        let cluster = tag(eni, "aws:ecs:clusterName")
            .map(|c| format!(" in cluster {c}"))
            .unwrap_or_default();
        return (format!("ECS service {service}{cluster}"), "ecs-task");
    }
    if crate::names::ArnParts::split(description).is_some_and(|arn| arn.service == "ecs") {
        return (format!("ECS task ({})", eni.id), "ecs-task");
    }
    if interface_type == "branch" || description == "aws-k8s-branch-eni" {
        let pod = match (
            tag(eni, "vpc.k8s.amazonaws.com/pod-namespace"),
            tag(eni, "vpc.k8s.amazonaws.com/pod-name"),
        ) {
            (Some(ns), Some(pod)) => format!("EKS pod {ns}/{pod}"),
            _ => format!("EKS pod ({})", eni.id),
        };
        return (pod, "eks-pod");
    }
    if let Some(rest) = description.strip_prefix("ELB ") {
        return (load_balancer(rest), "load-balancer");
    }
    if interface_type == "vpc_endpoint" || description.starts_with("VPC Endpoint Interface ") {
        let id = description
            .strip_prefix("VPC Endpoint Interface ")
            .unwrap_or(eni.id.as_str());
        return (format!("VPC endpoint {id}"), "vpc-endpoint");
    }
    if interface_type == "nat_gateway" || description.starts_with("Interface for NAT Gateway ") {
        let id = description
            .strip_prefix("Interface for NAT Gateway ")
            .unwrap_or(eni.id.as_str());
        return (format!("NAT gateway {id}"), "nat-gateway");
    }
    if eni.requester_managed || eni.requester_id.is_some() {
        let by = eni
            .requester_id
            .as_deref()
            .map(|r| format!(" by {r}"))
            .unwrap_or_default();
        let what = if description.is_empty() {
            eni.id.clone()
        } else {
            description.to_owned()
        };
        return (format!("{what} (managed{by})"), "aws-managed");
    }
    if !description.is_empty() {
        return (format!("{description} ({})", eni.id), "interface");
    }
    (eni.id.clone(), "interface")
}

/// `ELB app/my-alb/50dc6c495c0c9188` -> `ALB my-alb`, `ELB net/...` -> NLB, `ELB gwy/...` ->
/// GWLB, `ELB my-classic` -> CLB.
fn load_balancer(rest: &str) -> String {
    let mut parts = rest.split('/');
    match (parts.next(), parts.next()) {
        (Some("app"), Some(name)) => format!("ALB {name}"),
        (Some("net"), Some(name)) => format!("NLB {name}"),
        (Some("gwy"), Some(name)) => format!("GWLB {name}"),
        _ => format!("CLB {rest}"),
    }
}

/// Lambda appends a UUID to the function name in its interfaces' descriptions.
fn strip_uuid(text: &str) -> &str {
    const UUID_LEN: usize = 36;
    let Some(cut) = text.len().checked_sub(UUID_LEN + 1) else {
        return text;
    };
    let (head, tail) = match (text.get(..cut), text.get(cut..)) {
        (Some(h), Some(t)) => (h, t),
        _ => return text,
    };
    let uuid = tail.trim_start_matches('-');
    let looks_like_uuid = tail.starts_with('-')
        && uuid.len() == UUID_LEN
        && uuid.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
        && uuid.matches('-').count() == 4;
    if looks_like_uuid { head } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eni(description: &str, interface_type: &str) -> NetworkInterface {
        NetworkInterface {
            id: "eni-0abc".into(),
            interface_type: Some(interface_type.into()),
            description: (!description.is_empty()).then(|| description.to_owned()),
            subnet_id: Some("subnet-a".into()),
            vpc_id: Some("vpc-1".into()),
            availability_zone: Some("us-east-1a".into()),
            ..NetworkInterface::default()
        }
    }

    fn name(e: &NetworkInterface, instance_name: Option<&str>) -> (String, String) {
        let o = owner_of(e, instance_name);
        (o.name, o.kind)
    }

    #[test]
    fn an_instance_is_named_with_its_name_tag() {
        let mut e = eni("", "interface");
        e.instance_id = Some("i-0123".into());
        assert_eq!(
            name(&e, Some("web-1")),
            ("i-0123 (web-1)".into(), "instance".into())
        );
        assert_eq!(name(&e, None), ("i-0123".into(), "instance".into()));
        let o = owner_of(&e, None);
        assert_eq!(o.az.as_deref(), Some("us-east-1a"));
        assert_eq!(o.interface_id.as_deref(), Some("eni-0abc"));
    }

    #[test]
    fn an_eks_secondary_interface_names_the_node() {
        let mut e = eni("aws-K8S-i-0123", "interface");
        e.instance_id = Some("i-0123".into());
        assert_eq!(name(&e, Some("node-a")).0, "EKS pod on i-0123 (node-a)");
        let mut branch = eni("aws-k8s-branch-eni", "branch");
        branch.tags = vec![
            ("vpc.k8s.amazonaws.com/pod-namespace".into(), "shop".into()),
            ("vpc.k8s.amazonaws.com/pod-name".into(), "cart-7d9".into()),
        ];
        assert_eq!(
            name(&branch, None),
            ("EKS pod shop/cart-7d9".into(), "eks-pod".into())
        );
    }

    #[test]
    fn service_interfaces_say_which_service_and_resource() {
        assert_eq!(
            name(
                &eni(
                    "AWS Lambda VPC ENI-thumbnailer-1b2c3d4e-aaaa-bbbb-cccc-123456789abc",
                    "lambda"
                ),
                None
            ),
            ("Lambda thumbnailer".into(), "lambda".into())
        );
        assert_eq!(
            name(&eni("AWS Lambda VPC ENI-short", "lambda"), None).0,
            "Lambda short"
        );
        assert_eq!(
            name(&eni("ELB app/my-alb/50dc6c495c0c9188", "interface"), None),
            ("ALB my-alb".into(), "load-balancer".into())
        );
        assert_eq!(
            name(&eni("ELB net/my-nlb/1", "network_load_balancer"), None).0,
            "NLB my-nlb"
        );
        assert_eq!(name(&eni("ELB legacy", "interface"), None).0, "CLB legacy");
        assert_eq!(
            name(
                &eni("VPC Endpoint Interface vpce-0123", "vpc_endpoint"),
                None
            ),
            ("VPC endpoint vpce-0123".into(), "vpc-endpoint".into())
        );
        assert_eq!(
            name(
                &eni("Interface for NAT Gateway nat-0123", "nat_gateway"),
                None
            ),
            ("NAT gateway nat-0123".into(), "nat-gateway".into())
        );
        let mut ecs = eni(
            "arn:aws:ecs:us-east-1:123456789012:attachment/1b2c",
            "interface",
        );
        assert_eq!(
            name(&ecs, None),
            ("ECS task (eni-0abc)".into(), "ecs-task".into())
        );
        ecs.tags = vec![
            ("aws:ecs:serviceName".into(), "api".into()),
            ("aws:ecs:clusterName".into(), "prod".into()),
        ];
        assert_eq!(name(&ecs, None).0, "ECS service api in cluster prod");
    }

    #[test]
    fn managed_and_plain_interfaces_fall_back_to_what_is_known() {
        let mut rds = eni("RDSNetworkInterface", "interface");
        rds.requester_managed = true;
        rds.requester_id = Some("amazon-rds".into());
        assert_eq!(
            name(&rds, None),
            (
                "RDSNetworkInterface (managed by amazon-rds)".into(),
                "aws-managed".into()
            )
        );
        assert_eq!(
            name(&eni("build box", "interface"), None).0,
            "build box (eni-0abc)"
        );
        assert_eq!(
            name(&eni("", "interface"), None),
            ("eni-0abc".into(), "interface".into())
        );
    }

    #[test]
    fn only_a_trailing_uuid_is_stripped() {
        assert_eq!(strip_uuid("fn-1b2c3d4e-aaaa-bbbb-cccc-123456789abc"), "fn");
        assert_eq!(strip_uuid("fn-with-dashes"), "fn-with-dashes");
        assert_eq!(strip_uuid("é"), "é");
    }
}
