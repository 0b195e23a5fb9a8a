//! The live backend: a real fleet through Kubernetes, Argo CD, Alertmanager and the git remote.
//! For now: the `shopset.dev/v1alpha1` custom resources that the control-plane cluster holds,
//! and their CRDs (`shopctl crds`).

pub mod alertmanager;
pub mod argocd;
pub mod config;
pub mod crds;
pub mod events;
pub mod executor;
pub mod git;
pub mod http;
pub mod kubeconfig;
pub mod lease;
pub mod objects;
pub mod placement;
pub mod probe;
pub mod releases;
pub mod source;
pub mod sync;
pub mod watch;
