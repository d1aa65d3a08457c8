//! What each fix saves, per AWS service that a VPC endpoint can carry: its traffic's cost a
//! month through the NAT beside the same traffic through the endpoint (its per-GB price plus an
//! interface endpoint's hours), so an endpoint that costs more than it saves stands out as the
//! net loss it is.

use plotters::prelude::*;

use super::{CAPTURED, DESTINATION, THRESHOLD, WIDTH, chart_error, legend_and_close, swatch};
use crate::error::ReportError;
use crate::model::Report;
use crate::render::fixes::is_net_loss;
use crate::units::{service_name, usd};

const NAME: &str = "costs";
const BAR_HEIGHT: u32 = 26;
/// Services drawn at most.
pub(crate) const MAX_SERVICES: usize = 8;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ServiceCost {
    pub service: String,
    /// `gateway` or `interface`.
    pub endpoint: &'static str,
    pub nat_monthly_usd: f64,
    pub endpoint_monthly_usd: f64,
    pub net_loss: bool,
}

/// Per service with an endpoint, a month at the NAT's 30-day volume when measured, else at the
/// recorded rate (as the fixes' figures).
pub(crate) fn service_costs(report: &Report) -> Vec<ServiceCost> {
    let plan = &report.remediation;
    let factor = plan.month_factor.unwrap_or(plan.months_factor);
    report
        .services
        .iter()
        .filter_map(|s| {
            let per_gb = s.endpoint_cost_usd?;
            let endpoint = match s.endpoint {
                crate::EndpointKind::Gateway => "gateway",
                crate::EndpointKind::Interface => "interface",
                crate::EndpointKind::None => return None,
            };
            let action = plan.actions.iter().find(|a| a.service == s.service);
            let hours = action
                .and_then(|a| a.monthly_endpoint_hours_usd)
                .unwrap_or(0.0);
            Some(ServiceCost {
                service: service_name(&s.service).to_owned(),
                endpoint,
                nat_monthly_usd: s.nat_cost_usd * factor,
                endpoint_monthly_usd: per_gb * factor + hours,
                net_loss: action.is_some_and(is_net_loss),
            })
        })
        .take(MAX_SERVICES)
        .collect()
}

/// The chart as an SVG document; `None` when no service could use an endpoint.
pub(crate) fn costs_svg(costs: &[ServiceCost]) -> Result<Option<String>, ReportError> {
    if costs.is_empty() {
        return Ok(None);
    }
    let mut svg = String::new();
    draw(costs, &mut svg).map_err(chart_error(NAME))?;
    Ok(Some(svg))
}

fn draw(costs: &[ServiceCost], svg: &mut String) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    // Two bars a service: through the NAT, then through the endpoint, first service on top.
    let slots = costs.len() * 2;
    let height = 90 + BAR_HEIGHT * slots as u32;
    let root = SVGBackend::with_string(svg, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let x_max = costs
        .iter()
        .flat_map(|c| [c.nat_monthly_usd, c.endpoint_monthly_usd])
        .fold(0.01_f64, f64::max)
        * 1.1;
    let slot_of = |i: usize, endpoint: bool| slots - 1 - (2 * i + usize::from(endpoint));
    let mut labels = vec![String::new(); slots];
    for (i, c) in costs.iter().enumerate() {
        labels[slot_of(i, false)] = format!("{}: through the NAT", c.service);
        let loss = if c.net_loss { " (net loss)" } else { "" };
        labels[slot_of(i, true)] = format!("{}: {} endpoint{loss}", c.service, c.endpoint);
    }
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(34)
        .y_label_area_size(260)
        .build_cartesian_2d(0.0..x_max, (0..slots).into_segmented())
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE)
        .x_labels(6)
        .x_label_formatter(&|x| usd(*x))
        .y_labels(slots)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .x_desc("USD a month")
        .draw()
        .map_err(|e| err(&e))?;
    let bar = |slot: usize, value: f64, color: RGBColor| {
        let mut rect = Rectangle::new(
            [
                (0.0, SegmentValue::Exact(slot)),
                (value.max(0.0), SegmentValue::Exact(slot + 1)),
            ],
            color.filled(),
        );
        rect.set_margin(3, 3, 0, 0);
        rect
    };
    chart
        .draw_series(
            costs
                .iter()
                .enumerate()
                .map(|(i, c)| bar(slot_of(i, false), c.nat_monthly_usd, DESTINATION)),
        )
        .map_err(|e| err(&e))?
        .label("through the NAT")
        .legend(swatch(DESTINATION));
    for (name, net_loss, color) in [
        ("through the endpoint", false, CAPTURED),
        ("through the endpoint: a net loss", true, THRESHOLD),
    ] {
        if !costs.iter().any(|c| c.net_loss == net_loss) {
            continue;
        }
        chart
            .draw_series(
                costs
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.net_loss == net_loss)
                    .map(|(i, c)| bar(slot_of(i, true), c.endpoint_monthly_usd, color)),
            )
            .map_err(|e| err(&e))?
            .label(name)
            .legend(swatch(color));
    }
    legend_and_close(&mut chart, &root, SeriesLabelPosition::LowerRight)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(service: &str, nat: f64, endpoint: f64, net_loss: bool) -> ServiceCost {
        ServiceCost {
            service: service.into(),
            endpoint: "interface",
            nat_monthly_usd: nat,
            endpoint_monthly_usd: endpoint,
            net_loss,
        }
    }

    #[test]
    fn services_with_an_endpoint_get_both_monthly_costs() {
        let path = std::path::PathBuf::from("../fixtures/reports/nat-cloudwatch.log");
        let report =
            crate::build_report(&[path], &crate::ReportOptions::default()).expect("fixture");
        let costs = service_costs(&report);
        let with_endpoint = report
            .services
            .iter()
            .filter(|s| s.endpoint_cost_usd.is_some() && s.endpoint != crate::EndpointKind::None)
            .count();
        assert!(with_endpoint > 0, "the fixture reaches S3 and DynamoDB");
        assert_eq!(costs.len(), with_endpoint.min(MAX_SERVICES));
        for c in &costs {
            assert!(
                c.nat_monthly_usd >= 0.0 && c.endpoint_monthly_usd >= 0.0,
                "{c:?}"
            );
        }
    }

    #[test]
    fn a_net_loss_is_labelled_and_drawn_apart() {
        let costs = [
            cost("S3", 300.0, 0.0, false),
            cost("Kinesis", 5.0, 22.0, true),
        ];
        let svg = costs_svg(&costs).unwrap().unwrap();
        for label in [
            "S3: through the NAT",
            "S3: interface endpoint",
            "Kinesis: interface endpoint (net loss)",
            "through the endpoint: a net loss",
            "USD a month",
        ] {
            assert!(svg.contains(label), "{label} missing:\n{svg}");
        }
        assert_eq!(costs_svg(&[]).unwrap(), None);
    }
}
