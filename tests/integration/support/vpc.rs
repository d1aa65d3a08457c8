//! A VPC as the attribution tests need it in moto: private subnets routed to the NAT, and
//! named instances in them.

use aws_sdk_ec2::types::{InstanceType, ResourceType, Tag, TagSpecification};

use super::moto::SeededNat;

/// An image id moto accepts (it does not validate AMIs by default).
const AMI: &str = "ami-03cf127a";

/// A private subnet `10.<o>.1.0/24` whose route table sends 0.0.0.0/0 to the NAT.
pub struct Private {
    pub subnet_id: String,
    pub route_table_id: String,
    pub az: String,
}

pub async fn private_subnet(ec2: &aws_sdk_ec2::Client, nat: &SeededNat, octet: u8) -> Private {
    let subnet = ec2
        .create_subnet()
        .vpc_id(&nat.vpc_id)
        .cidr_block(format!("10.{octet}.1.0/24"))
        .send()
        .await
        .expect("moto CreateSubnet");
    let subnet = subnet.subnet().expect("subnet");
    let subnet_id = subnet.subnet_id().expect("subnet id").to_owned();
    let az = subnet.availability_zone().expect("subnet AZ").to_owned();
    let rtb = ec2
        .create_route_table()
        .vpc_id(&nat.vpc_id)
        .send()
        .await
        .expect("moto CreateRouteTable");
    let route_table_id = rtb
        .route_table()
        .and_then(|t| t.route_table_id())
        .expect("route table id")
        .to_owned();
    ec2.create_route()
        .route_table_id(&route_table_id)
        .destination_cidr_block("0.0.0.0/0")
        .nat_gateway_id(&nat.nat_gateway_id)
        .send()
        .await
        .expect("moto CreateRoute");
    ec2.associate_route_table()
        .route_table_id(&route_table_id)
        .subnet_id(&subnet_id)
        .send()
        .await
        .expect("moto AssociateRouteTable");
    Private {
        subnet_id,
        route_table_id,
        az,
    }
}

/// An instance with `Name = name` at `ip` in `subnet`; returns its id.
pub async fn instance(ec2: &aws_sdk_ec2::Client, subnet: &str, ip: &str, name: &str) -> String {
    let out = ec2
        .run_instances()
        .image_id(AMI)
        .instance_type(InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .subnet_id(subnet)
        .private_ip_address(ip)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Instance)
                .tags(Tag::builder().key("Name").value(name).build())
                .build(),
        )
        .send()
        .await
        .expect("moto RunInstances");
    out.instances()
        .first()
        .and_then(|i| i.instance_id())
        .expect("instance id")
        .to_owned()
}
