//! Read-only views of the account for `report` (who owns an address, where it sits) and
//! `doctor` (how the NAT's VPC routes, which endpoints exist, the delivery role, the log group,
//! the SNS topic). One method per AWS intent; nothing here changes AWS, so a user can grant
//! these calls to a read-only role.

use std::future::Future;
use std::net::IpAddr;

use super::AwsError;

/// A network interface as DescribeNetworkInterfaces shows it: what it belongs to and where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkInterface {
    pub id: String,
    /// `interface`, `nat_gateway`, `lambda`, `network_load_balancer`, `vpc_endpoint`, `branch`,
    /// ... (AWS's `InterfaceType`).
    pub interface_type: Option<String>,
    /// Services write who created the interface here (`AWS Lambda VPC ENI-<function>-...`,
    /// `ELB app/<name>/...`, `Interface for NAT Gateway nat-...`, `aws-K8S-i-...`).
    pub description: Option<String>,
    /// The AWS service or principal that manages a requester-managed interface.
    pub requester_id: Option<String>,
    pub requester_managed: bool,
    /// The instance it is attached to.
    pub instance_id: Option<String>,
    pub subnet_id: Option<String>,
    pub vpc_id: Option<String>,
    pub availability_zone: Option<String>,
    /// Every private IPv4 and IPv6 address of the interface.
    pub addresses: Vec<IpAddr>,
    /// The interface's own tags (ECS and EKS put their names here).
    pub tags: Vec<(String, String)>,
}

/// An instance and its `Name` tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceName {
    pub instance_id: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: Option<String>,
    pub availability_zone: Option<String>,
}

/// Where a NAT gateway sits, as DescribeNatGateways shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatPlacement {
    pub id: String,
    pub state: String,
    pub vpc_id: Option<String>,
    /// A zonal NAT's subnet (a regional NAT has none).
    pub subnet_id: Option<String>,
    /// `AvailabilityMode` is `regional`.
    pub regional: bool,
    /// The AZs its addresses report (a regional NAT has addresses per AZ; a zonal NAT's
    /// addresses may not say, then its subnet's AZ is the one).
    pub address_azs: Vec<String>,
    pub enis: Vec<String>,
}

/// One route of a route table; exactly one target field is set for the targets doctor reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    /// An IPv4 CIDR, an IPv6 CIDR or a prefix-list id (`pl-...`, the target of a gateway
    /// endpoint's route).
    pub destination: String,
    pub nat_gateway_id: Option<String>,
    /// An internet gateway (`igw-`), a virtual private gateway or a gateway endpoint (`vpce-`).
    pub gateway_id: Option<String>,
    /// Any other target, as AWS names it (`eigw-...`, `tgw-...`, `pcx-...`, `eni-...`).
    pub other_target: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteTable {
    pub id: String,
    pub vpc_id: Option<String>,
    /// The VPC's main route table: subnets without an explicit association use it.
    pub main: bool,
    /// Subnets explicitly associated with it.
    pub subnet_ids: Vec<String>,
    pub routes: Vec<Route>,
}

impl RouteTable {
    /// Whether `destination` (e.g. `0.0.0.0/0`) is routed to `nat_gateway_id`.
    pub fn sends_to_nat(&self, destination: &str, nat_gateway_id: &str) -> bool {
        self.routes.iter().any(|r| {
            r.destination == destination && r.nat_gateway_id.as_deref() == Some(nat_gateway_id)
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VpcEndpoint {
    pub id: String,
    pub vpc_id: Option<String>,
    /// `com.amazonaws.<region>.s3`, ...
    pub service_name: String,
    /// `Gateway`, `Interface`, `GatewayLoadBalancer`, ...
    pub endpoint_type: String,
    /// `available`, `pending`, `deleted`, ... (lowercase, as AWS returns it).
    pub state: Option<String>,
    /// For a gateway endpoint: the route tables it is associated with.
    pub route_table_ids: Vec<String>,
    /// For an interface endpoint: its subnets (one per AZ).
    pub subnet_ids: Vec<String>,
}

/// An IAM role with its trust policy and every permission policy (inline and attached), each as
/// JSON text (URL-decoded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RolePolicies {
    pub name: String,
    pub arn: String,
    pub trust_policy: String,
    /// `(policy name, document)`.
    pub policies: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogGroupInfo {
    pub name: String,
    /// `STANDARD | INFREQUENT_ACCESS | DELIVERY`; `None` when AWS (or an emulator) does not say.
    pub class: Option<String>,
    /// `None`: never expire.
    pub retention_days: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicSubscription {
    pub protocol: String,
    pub endpoint: String,
    /// A subscription whose owner has not clicked the confirmation link receives nothing.
    pub confirmed: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicInfo {
    pub arn: String,
    pub subscriptions: Vec<TopicSubscription>,
}

pub trait Inventory {
    /// DescribeNetworkInterfaces filtered by private address (IPv4 and IPv6, batched); addresses
    /// no interface holds are simply absent from the answer.
    fn interfaces_by_address(
        &self,
        addresses: &[IpAddr],
    ) -> impl Future<Output = Result<Vec<NetworkInterface>, AwsError>>;
    /// DescribeInstances for these ids (batched): each instance's `Name` tag. Ids AWS no longer
    /// knows are absent.
    fn instance_names(
        &self,
        instance_ids: &[String],
    ) -> impl Future<Output = Result<Vec<InstanceName>, AwsError>>;
    /// DescribeSubnets for these ids (by filter, so an unknown id is absent, not an error).
    fn subnets(&self, subnet_ids: &[String])
    -> impl Future<Output = Result<Vec<Subnet>, AwsError>>;
    /// DescribeNatGateways for these ids (by filter: an unknown id is absent), with the
    /// availability mode and the AZ of each address.
    fn nat_placements(
        &self,
        nat_gateway_ids: &[String],
    ) -> impl Future<Output = Result<Vec<NatPlacement>, AwsError>>;
    /// DescribeRouteTables of one VPC, every page.
    fn route_tables(&self, vpc_id: &str)
    -> impl Future<Output = Result<Vec<RouteTable>, AwsError>>;
    /// DescribeVpcEndpoints of one VPC, every page.
    fn vpc_endpoints(
        &self,
        vpc_id: &str,
    ) -> impl Future<Output = Result<Vec<VpcEndpoint>, AwsError>>;
    /// iam:GetRole with its inline and attached policies; `None` when the role does not exist.
    fn role_policies(
        &self,
        role_name: &str,
    ) -> impl Future<Output = Result<Option<RolePolicies>, AwsError>>;
    /// logs:DescribeLogGroups for exactly this name; `None` when it does not exist.
    fn log_group(&self, name: &str)
    -> impl Future<Output = Result<Option<LogGroupInfo>, AwsError>>;
    /// sns:GetTopicAttributes (does it exist) and ListSubscriptionsByTopic (every page); `None`
    /// when the topic does not exist.
    fn topic(&self, topic_arn: &str) -> impl Future<Output = Result<Option<TopicInfo>, AwsError>>;
    /// s3:GetBucketLocation: the bucket's region (`us-east-1` for AWS's empty answer); `None`
    /// when the bucket does not exist.
    fn bucket_region(&self, bucket: &str)
    -> impl Future<Output = Result<Option<String>, AwsError>>;
    /// s3:GetBucketPolicy: the policy document; `None` when the bucket has none.
    fn bucket_policy(&self, bucket: &str)
    -> impl Future<Output = Result<Option<String>, AwsError>>;
}

/// A shared reference reads the same account (so a caller can hand out `&cloud`).
impl<T: Inventory> Inventory for &T {
    async fn interfaces_by_address(
        &self,
        addresses: &[IpAddr],
    ) -> Result<Vec<NetworkInterface>, AwsError> {
        (**self).interfaces_by_address(addresses).await
    }

    async fn instance_names(&self, instance_ids: &[String]) -> Result<Vec<InstanceName>, AwsError> {
        (**self).instance_names(instance_ids).await
    }

    async fn subnets(&self, subnet_ids: &[String]) -> Result<Vec<Subnet>, AwsError> {
        (**self).subnets(subnet_ids).await
    }

    async fn nat_placements(
        &self,
        nat_gateway_ids: &[String],
    ) -> Result<Vec<NatPlacement>, AwsError> {
        (**self).nat_placements(nat_gateway_ids).await
    }

    async fn route_tables(&self, vpc_id: &str) -> Result<Vec<RouteTable>, AwsError> {
        (**self).route_tables(vpc_id).await
    }

    async fn vpc_endpoints(&self, vpc_id: &str) -> Result<Vec<VpcEndpoint>, AwsError> {
        (**self).vpc_endpoints(vpc_id).await
    }

    async fn role_policies(&self, role_name: &str) -> Result<Option<RolePolicies>, AwsError> {
        (**self).role_policies(role_name).await
    }

    async fn log_group(&self, name: &str) -> Result<Option<LogGroupInfo>, AwsError> {
        (**self).log_group(name).await
    }

    async fn topic(&self, topic_arn: &str) -> Result<Option<TopicInfo>, AwsError> {
        (**self).topic(topic_arn).await
    }

    async fn bucket_region(&self, bucket: &str) -> Result<Option<String>, AwsError> {
        (**self).bucket_region(bucket).await
    }

    async fn bucket_policy(&self, bucket: &str) -> Result<Option<String>, AwsError> {
        (**self).bucket_policy(bucket).await
    }
}
