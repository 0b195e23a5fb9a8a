//! The live backend: a real fleet through Kubernetes, Argo CD, Alertmanager and the system
//! repository — read as sources (`source.rs`), written through the executor's live stores
//! (`executor.rs`).

pub mod access;
pub mod alertmanager;
pub mod argocd;
pub mod calls;
pub mod config;
pub mod controls;
pub mod crds;
pub mod errors;
pub mod events;
pub mod executor;
pub mod http;
pub mod kubeconfig;
pub mod lease;
pub mod objects;
pub mod pages;
pub mod placement;
pub mod probe;
pub mod prometheus;
pub mod releases;
pub mod source;
pub mod sync;
pub mod view;
pub mod watch;
