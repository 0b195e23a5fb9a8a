//! Verification samples from Prometheus's HTTP API: `/api/v1/query_range` over a tier's
//! window, each series' samples as they come. Prometheus that cannot be reached, a query it
//! refuses or an answer that cannot be read is said — never an empty pass.

use serde::Deserialize;

use super::config::Prometheus;
use super::http::{Auth, HttpClient, HttpError};
use crate::domain::Ts;
use crate::domain::release::Verification;
use crate::domain::release::verify::{Series, Window};
use crate::ops::verify::MetricsSource;

/// At most this many samples per series: the step grows with the window.
const MAX_POINTS: i64 = 240;
/// The finest step asked for, in seconds (a typical scrape interval).
const MIN_STEP_SECS: i64 = 15;

/// Prometheus, as the configuration names it.
#[derive(Debug, Clone)]
pub struct PrometheusClient {
    http: HttpClient,
}

impl PrometheusClient {
    pub fn new(config: &Prometheus) -> Result<PrometheusClient, HttpError> {
        let auth = Auth::of(
            config.bearer_token_file.as_deref(),
            config.basic_auth.as_ref(),
        );
        Ok(PrometheusClient {
            http: HttpClient::new(&config.url, auth, config.ca_file.as_deref())?,
        })
    }

    /// The samples of `query` from `from` to `to`.
    pub async fn range(&self, query: &str, from: Ts, to: Ts) -> Result<Vec<Series>, String> {
        let span = from.secs_until(to).max(1);
        let step = (span / MAX_POINTS).max(MIN_STEP_SECS);
        // Whole seconds on the step grid: two measurements of one moment ask the same.
        let secs = |t: Ts| t.0 as f64 / 1000.0;
        let params = form_urlencoded::Serializer::new(String::new())
            .append_pair("query", query)
            .append_pair("start", &format!("{:.3}", secs(from)))
            .append_pair("end", &format!("{:.3}", secs(to)))
            .append_pair("step", &step.to_string())
            .finish();
        let body = self
            .http
            .get(&format!("/api/v1/query_range?{params}"))
            .await
            .map_err(|e| e.to_string())?;
        decode(&body)
    }
}

#[derive(Deserialize)]
struct Answer {
    status: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    data: Option<Data>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    result_type: String,
    #[serde(default)]
    result: Vec<Matrix>,
}

#[derive(Deserialize)]
struct Matrix {
    #[serde(default)]
    metric: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// A `query_range` answer as series; `NaN` and infinite samples are kept (the judge skips them).
pub fn decode(body: &[u8]) -> Result<Vec<Series>, String> {
    let a: Answer = serde_json::from_slice(body)
        .map_err(|e| format!("Prometheus's answer cannot be read: {e}"))?;
    if a.status != "success" {
        return Err(format!(
            "Prometheus refused the query: {}",
            crate::domain::printable(a.error.as_deref().unwrap_or("no reason given"))
        ));
    }
    let data = a
        .data
        .ok_or_else(|| "Prometheus's answer has no data".to_string())?;
    if data.result_type != "matrix" {
        return Err(format!(
            "Prometheus answered a {} where a range query gives a matrix",
            data.result_type
        ));
    }
    Ok(data
        .result
        .into_iter()
        .map(|m| {
            let labels: Vec<String> = m
                .metric
                .iter()
                .filter(|(k, _)| k.as_str() != "__name__")
                .map(|(k, v)| format!("{k}=\"{}\"", crate::domain::printable(v)))
                .collect();
            Series {
                labels: if labels.is_empty() {
                    String::new()
                } else {
                    format!("{{{}}}", labels.join(","))
                },
                samples: m
                    .values
                    .into_iter()
                    .map(|(t, v)| {
                        (
                            Ts((t * 1000.0).round() as i64),
                            v.parse::<f64>().unwrap_or(f64::NAN),
                        )
                    })
                    .collect(),
            }
        })
        .collect())
}

#[async_trait::async_trait]
impl MetricsSource for PrometheusClient {
    async fn samples(&self, v: &Verification, w: &Window) -> Result<Vec<Series>, String> {
        self.range(&w.render(&v.query), w.from, w.to).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_matrix_becomes_series_and_an_error_is_said() {
        let ok = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"__name__":"x","shopset":"a-1"},"values":[[1700000000.5,"0.01"],[1700000015,"NaN"]]}]}}"#;
        let s = decode(ok).unwrap();
        assert_eq!(s[0].labels, "{shopset=\"a-1\"}");
        assert_eq!(s[0].samples[0], (Ts(1_700_000_000_500), 0.01));
        assert!(s[0].samples[1].1.is_nan());
        let bad = br#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#;
        assert!(decode(bad).unwrap_err().contains("parse error"));
        assert!(decode(b"<html>").is_err());
        let vector = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert!(decode(vector).unwrap_err().contains("vector"));
    }
}
