//! The `Inventory` port on `SimCloud`: what the simulated account holds besides its NAT gateways
//! and flow logs (interfaces with their owners, instances and their Name tags, subnets, route
//! tables, VPC endpoints, IAM roles, SNS topics), seeded by tests and the demo. NAT gateways
//! and log groups come from the account itself, so `doctor` and attribution see the same NATs
//! and groups the job works on.

use std::collections::{HashSet, VecDeque};
use std::net::IpAddr;

use super::SimCloud;
use crate::ports::{
    AwsError, AwsErrorKind, InstanceName, Inventory, LogGroupInfo, NatPlacement, NetworkInterface,
    RolePolicies, RouteTable, Subnet, TopicInfo, VpcEndpoint,
};

/// The seeded inventory and the calls made to it.
#[derive(Debug, Default)]
pub(crate) struct SimInventory {
    interfaces: Vec<NetworkInterface>,
    instances: Vec<InstanceName>,
    subnets: Vec<Subnet>,
    route_tables: Vec<RouteTable>,
    endpoints: Vec<VpcEndpoint>,
    roles: Vec<RolePolicies>,
    topics: Vec<TopicInfo>,
    regional_nats: HashSet<String>,
    /// The next inventory calls fail with these kinds, in order.
    injected: VecDeque<AwsErrorKind>,
    /// Operation names of the inventory calls, in call order.
    calls: Vec<&'static str>,
}

impl SimInventory {
    fn call(&mut self, operation: &'static str) -> Result<(), AwsError> {
        self.calls.push(operation);
        match self.injected.pop_front() {
            None => Ok(()),
            Some(kind) => Err(AwsError::new(
                operation,
                "InjectedFailure",
                "failure injected by the simulator",
                kind,
            )),
        }
    }
}

/// Seeding the inventory (tests, demo).
impl SimCloud {
    fn inventory(&self) -> std::sync::MutexGuard<'_, SimInventory> {
        self.inventory
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A network interface; replaces one with the same id.
    pub fn add_interface(&self, eni: NetworkInterface) {
        let mut inv = self.inventory();
        inv.interfaces.retain(|e| e.id != eni.id);
        inv.interfaces.push(eni);
    }

    pub fn add_instance(&self, instance_id: &str, name: Option<&str>) {
        let mut inv = self.inventory();
        inv.instances.retain(|i| i.instance_id != instance_id);
        inv.instances.push(InstanceName {
            instance_id: instance_id.to_owned(),
            name: name.map(str::to_owned),
        });
    }

    pub fn add_subnet(&self, subnet: Subnet) {
        let mut inv = self.inventory();
        inv.subnets.retain(|s| s.id != subnet.id);
        inv.subnets.push(subnet);
    }

    /// A route table; replaces one with the same id.
    pub fn add_route_table(&self, table: RouteTable) {
        let mut inv = self.inventory();
        inv.route_tables.retain(|t| t.id != table.id);
        inv.route_tables.push(table);
    }

    /// A VPC endpoint; replaces one with the same id.
    pub fn add_vpc_endpoint(&self, endpoint: VpcEndpoint) {
        let mut inv = self.inventory();
        inv.endpoints.retain(|e| e.id != endpoint.id);
        inv.endpoints.push(endpoint);
    }

    pub fn add_role(&self, role: RolePolicies) {
        let mut inv = self.inventory();
        inv.roles.retain(|r| r.name != role.name);
        inv.roles.push(role);
    }

    pub fn add_topic(&self, topic: TopicInfo) {
        let mut inv = self.inventory();
        inv.topics.retain(|t| t.arn != topic.arn);
        inv.topics.push(topic);
    }

    /// DescribeNatGateways reports this NAT with availability mode `regional`.
    pub fn set_nat_regional(&self, nat_gateway_id: &str) {
        self.inventory()
            .regional_nats
            .insert(nat_gateway_id.to_owned());
    }

    /// Makes the next inventory call fail with an error of `kind` (queued).
    pub fn fail_next_inventory(&self, kind: AwsErrorKind) {
        self.inventory().injected.push_back(kind);
    }

    /// The inventory calls so far (`ec2:DescribeNetworkInterfaces`, ...), oldest first.
    pub fn inventory_calls(&self) -> Vec<&'static str> {
        self.inventory().calls.clone()
    }
}

impl Inventory for SimCloud {
    /// The simulator has no bucket.
    async fn bucket_region(&self, _bucket: &str) -> Result<Option<String>, AwsError> {
        self.inventory().call("s3:GetBucketLocation")?;
        Ok(None)
    }

    async fn bucket_policy(&self, _bucket: &str) -> Result<Option<String>, AwsError> {
        self.inventory().call("s3:GetBucketPolicy")?;
        Ok(None)
    }

    async fn interfaces_by_address(
        &self,
        addresses: &[IpAddr],
    ) -> Result<Vec<NetworkInterface>, AwsError> {
        let mut inv = self.inventory();
        inv.call("ec2:DescribeNetworkInterfaces")?;
        Ok(inv
            .interfaces
            .iter()
            .filter(|e| e.addresses.iter().any(|a| addresses.contains(a)))
            .cloned()
            .collect())
    }

    async fn instance_names(&self, instance_ids: &[String]) -> Result<Vec<InstanceName>, AwsError> {
        let mut inv = self.inventory();
        inv.call("ec2:DescribeInstances")?;
        Ok(inv
            .instances
            .iter()
            .filter(|i| instance_ids.contains(&i.instance_id))
            .cloned()
            .collect())
    }

    async fn subnets(&self, subnet_ids: &[String]) -> Result<Vec<Subnet>, AwsError> {
        let mut inv = self.inventory();
        inv.call("ec2:DescribeSubnets")?;
        Ok(inv
            .subnets
            .iter()
            .filter(|s| subnet_ids.contains(&s.id))
            .cloned()
            .collect())
    }

    async fn nat_placements(
        &self,
        nat_gateway_ids: &[String],
    ) -> Result<Vec<NatPlacement>, AwsError> {
        let regional = {
            let mut inv = self.inventory();
            inv.call("ec2:DescribeNatGateways")?;
            inv.regional_nats.clone()
        };
        let account = self.lock();
        Ok(account
            .nats
            .iter()
            .filter(|n| nat_gateway_ids.contains(&n.id))
            .map(|n| NatPlacement {
                id: n.id.clone(),
                state: n.state.clone(),
                vpc_id: Some(n.vpc_id.clone()),
                subnet_id: (!regional.contains(&n.id)).then(|| n.subnet_id.clone()),
                regional: regional.contains(&n.id),
                address_azs: Vec::new(),
                enis: n.enis.clone(),
            })
            .collect())
    }

    async fn route_tables(&self, vpc_id: &str) -> Result<Vec<RouteTable>, AwsError> {
        let mut inv = self.inventory();
        inv.call("ec2:DescribeRouteTables")?;
        Ok(inv
            .route_tables
            .iter()
            .filter(|t| t.vpc_id.as_deref() == Some(vpc_id))
            .cloned()
            .collect())
    }

    async fn vpc_endpoints(&self, vpc_id: &str) -> Result<Vec<VpcEndpoint>, AwsError> {
        let mut inv = self.inventory();
        inv.call("ec2:DescribeVpcEndpoints")?;
        Ok(inv
            .endpoints
            .iter()
            .filter(|e| e.vpc_id.as_deref() == Some(vpc_id))
            .cloned()
            .collect())
    }

    async fn role_policies(&self, role_name: &str) -> Result<Option<RolePolicies>, AwsError> {
        let mut inv = self.inventory();
        inv.call("iam:GetRole")?;
        Ok(inv.roles.iter().find(|r| r.name == role_name).cloned())
    }

    async fn log_group(&self, name: &str) -> Result<Option<LogGroupInfo>, AwsError> {
        self.inventory().call("logs:DescribeLogGroups")?;
        let account = self.lock();
        Ok(account.log_groups.get(name).map(|g| LogGroupInfo {
            name: name.to_owned(),
            class: Some(g.class.clone()),
            retention_days: Some(g.retention_days),
        }))
    }

    async fn topic(&self, topic_arn: &str) -> Result<Option<TopicInfo>, AwsError> {
        let mut inv = self.inventory();
        inv.call("sns:GetTopicAttributes")?;
        Ok(inv.topics.iter().find(|t| t.arn == topic_arn).cloned())
    }
}
