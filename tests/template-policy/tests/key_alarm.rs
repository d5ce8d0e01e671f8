//! The template alarms when a function finds the request id key missing from a table in use (issue 20: "the
//! request-id key never recreated silently … and alarm"): on the metric the store counts, from every function that
//! makes ids.

use serde_yaml_ng::Value;
use template_policy::template;

#[test]
fn the_template_alarms_on_the_missing_key_from_every_function_that_makes_ids() {
    let template = template();
    let alarm = &template["Resources"]["RequestIdKeyMissingAlarm"];
    assert_eq!(alarm["Type"].as_str(), Some("AWS::CloudWatch::Alarm"));
    let watched: Vec<(&str, &str, &str)> = alarm["Properties"]["Metrics"]
        .as_sequence()
        .expect("metric math over the functions")
        .iter()
        .filter_map(|metric| {
            let metric = &metric["MetricStat"]["Metric"];
            let function = metric["Dimensions"].as_sequence()?.iter().find_map(|d| {
                (d["Name"].as_str() == Some("Function")).then(|| d["Value"].as_str())?
            })?;
            Some((
                metric["Namespace"].as_str()?,
                metric["MetricName"].as_str()?,
                function,
            ))
        })
        .collect();
    let key_missing = shared::store::REQUEST_ID_KEY_MISSING_METRIC;
    let namespace = shared::runtime::METRICS_NAMESPACE;
    assert_eq!(
        watched,
        [
            (namespace, key_missing, "request-intake"),
            (namespace, key_missing, "reconciler")
        ]
    );
    let summed = alarm["Properties"]["Metrics"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|metric| metric["ReturnData"] == Value::Bool(true))
        .expect("the alarm's expression");
    assert_eq!(
        summed["Expression"].as_str(),
        Some("SUM([intake, reconciler])")
    );
    assert_eq!(alarm["Properties"]["Threshold"].as_f64(), Some(0.0));
    assert_eq!(
        alarm["Properties"]["ComparisonOperator"].as_str(),
        Some("GreaterThanThreshold")
    );
}
