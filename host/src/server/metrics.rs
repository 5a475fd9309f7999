//! The daemon's Prometheus metrics: requests, failures by reason, latency, time per module,
//! where modules came from (memory, disk cache, compiled), and manifest files read
//! remembered or parsed.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::runtime::{ModuleSource, Observer};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Module {
    module: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Source {
    source: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    result: &'static str,
}

/// Why a request failed, as the `reason` label says it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Failure {
    /// The render failed, of this kind ([`crate::pipeline::RenderError::kind`]): a module's
    /// findings, a trap, a deadline, a cap, a bad pipeline, missing files, ...
    Render(&'static str),
    /// No slot came free within the render's budget.
    Busy,
    /// The request itself was malformed.
    BadRequest,
    /// The render panicked (a bug in the host).
    Internal,
    /// The client went away before the answer; the render was stopped.
    Cancelled,
}

impl Failure {
    fn as_str(self) -> &'static str {
        match self {
            Failure::Render(kind) => kind,
            Failure::Busy => "busy",
            Failure::BadRequest => "bad-request",
            Failure::Internal => "internal",
            Failure::Cancelled => "cancelled",
        }
    }
}

pub(super) struct Metrics {
    registry: Registry,
    requests: Counter,
    failures: Family<Reason, Counter>,
    latency: Histogram,
    module_seconds: Family<Module, Histogram>,
    module_loads: Family<Source, Counter>,
    manifest_files: Family<Outcome, Counter>,
}

/// Buckets from 1 ms to about 33 s.
fn seconds_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

impl Metrics {
    pub(super) fn new() -> Self {
        let mut registry = Registry::with_prefix("argocd_wasm_plugin");
        let requests = Counter::default();
        let failures = Family::<Reason, Counter>::default();
        let latency = seconds_histogram();
        let module_seconds = Family::<Module, Histogram>::new_with_constructor(
            seconds_histogram as fn() -> Histogram,
        );
        let module_loads = Family::<Source, Counter>::default();
        let manifest_files = Family::<Outcome, Counter>::default();
        registry.register("requests", "Generate requests received", requests.clone());
        registry.register(
            "failures",
            "Generate requests that failed, by reason",
            failures.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time to answer a generate request",
            latency.clone(),
        );
        registry.register(
            "module_duration_seconds",
            "Time spent in each module's transform",
            module_seconds.clone(),
        );
        registry.register(
            "module_loads",
            "Modules a render asked for, by where they came from",
            module_loads.clone(),
        );
        registry.register(
            "manifest_files",
            "Manifest files a render read: `remembered` from an earlier render, or `parsed`",
            manifest_files.clone(),
        );
        Self {
            registry,
            requests,
            failures,
            latency,
            module_seconds,
            module_loads,
            manifest_files,
        }
    }

    /// A render read a manifest file: remembered from an earlier render, or parsed.
    pub(super) fn manifest_file_read(&self, remembered: bool) {
        let result = if remembered { "remembered" } else { "parsed" };
        self.manifest_files.get_or_create(&Outcome { result }).inc();
    }

    pub(super) fn request_done(&self, elapsed: Duration, failure: Option<Failure>) {
        self.requests.inc();
        self.latency.observe(elapsed.as_secs_f64());
        if let Some(failure) = failure {
            self.failures
                .get_or_create(&Reason {
                    reason: failure.as_str(),
                })
                .inc();
        }
    }

    /// The Prometheus text exposition.
    pub(super) fn encode(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}

impl Observer for Metrics {
    fn module_loaded(&self, source: ModuleSource) {
        self.module_loads
            .get_or_create(&Source {
                source: source.as_str(),
            })
            .inc();
    }

    fn module_called(&self, module: &str, elapsed: Duration) {
        let label = Module {
            module: module.to_owned(),
        };
        self.module_seconds
            .get_or_create(&label)
            .observe(elapsed.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposes_every_family() {
        let metrics = Metrics::new();
        metrics.request_done(Duration::from_millis(3), None);
        metrics.request_done(
            Duration::from_millis(5),
            Some(Failure::Render("memory-cap")),
        );
        metrics.module_loaded(ModuleSource::Memory);
        metrics.module_called("image-tags", Duration::from_micros(300));
        metrics.manifest_file_read(true);
        let text = metrics.encode();
        for expected in [
            "argocd_wasm_plugin_requests_total 2",
            "argocd_wasm_plugin_failures_total{reason=\"memory-cap\"} 1",
            "argocd_wasm_plugin_request_duration_seconds_count 2",
            "argocd_wasm_plugin_module_duration_seconds_count{module=\"image-tags\"} 1",
            "argocd_wasm_plugin_module_loads_total{source=\"memory\"} 1",
            "argocd_wasm_plugin_manifest_files_total{result=\"remembered\"} 1",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
    }
}
