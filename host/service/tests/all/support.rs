//! A service on a loopback port in a temporary directory, and an HTTP
//! client for it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use stratbox_runtime::bundle::{HostSecretKey, Language, StrategyMetadata};
use stratbox_runtime::{Runtime, RuntimeConfig};
use stratbox_service::{Service, ServiceConfig};
use stratbox_test_artifacts::Guest;
use tokio::sync::oneshot;

/// A running service and a client.
pub struct Harness {
    pub dir: tempfile::TempDir,
    pub key: HostSecretKey,
    tokio: tokio::runtime::Runtime,
    server: Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>,
    pub service: Option<Arc<Service>>,
    pub url: String,
    configure: fn(&mut ServiceConfig),
    client: reqwest::Client,
}

impl Harness {
    /// A service on a fresh directory with a fresh host key.
    pub fn start() -> Harness {
        Harness::start_with(|_| {})
    }

    /// [`Harness::start`] with `configure` applied to the configuration.
    pub fn start_with(configure: fn(&mut ServiceConfig)) -> Harness {
        let mut harness = Harness {
            dir: tempfile::tempdir().expect("temporary directory"),
            key: HostSecretKey::generate().expect("host key"),
            tokio: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio"),
            server: None,
            service: None,
            url: String::new(),
            configure,
            // No connection reuse: a server that refused an oversized body
            // closes that connection.
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .expect("client"),
        };
        harness.open();
        harness
    }

    fn open(&mut self) {
        let mut config = ServiceConfig {
            data_dir: self.dir.path().join("data"),
            workers: 2,
            max_body_bytes: 8 << 20,
            ..ServiceConfig::default()
        };
        (self.configure)(&mut config);
        let service = Arc::new(
            Service::open(config, Arc::new(self.key.clone()), Some("test-key".into()))
                .expect("service opens"),
        );
        let listener = self
            .tokio
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        self.url = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = oneshot::channel::<()>();
        let served = Arc::clone(&service);
        let task = self.tokio.spawn(async move {
            stratbox_service::api::serve(served, listener, async {
                let _ = stopped.await;
            })
            .await
            .expect("serve");
        });
        self.server = Some((stop, task));
        self.service = Some(service);
    }

    /// Stop the service (its workers finish their current tick) and open
    /// it again on the same directory.
    pub fn restart(&mut self) {
        self.stop();
        self.open();
    }

    /// Stop the server and drop the service.
    pub fn stop(&mut self) {
        if let Some((stop, task)) = self.server.take() {
            let _ = stop.send(());
            self.tokio.block_on(task).expect("server task");
        }
        let service = self.service.take().expect("service");
        // The server's handlers are gone; the workers stop with the last
        // reference. A handler whose client gave up (a slow answer on a
        // loaded machine) may leave its blocking call running a moment
        // longer.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Arc::strong_count(&service) > 1 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(
            Arc::strong_count(&service),
            1,
            "nothing else holds the service"
        );
        drop(service);
    }

    /// The service.
    pub fn service(&self) -> &Service {
        self.service.as_ref().expect("service running")
    }

    /// A new tenant's token.
    pub fn tenant(&self, id: &str) -> String {
        self.service().create_tenant(id, None).expect("tenant")
    }

    fn send(&self, request: reqwest::RequestBuilder) -> (u16, Value) {
        self.tokio.block_on(async {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let text = response.text().await.expect("body");
            let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
            (status, value)
        })
    }

    fn with_token(&self, request: reqwest::RequestBuilder, token: &str) -> reqwest::RequestBuilder {
        request.header("authorization", format!("Bearer {token}"))
    }

    /// `GET path`.
    pub fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let request = self.client.get(format!("{}{path}", self.url));
        self.send(self.with_token(request, token))
    }

    /// `POST path` with a raw body.
    pub fn post_raw(
        &self,
        token: &str,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, Value) {
        let request = self.client.post(format!("{}{path}", self.url)).body(body);
        self.send(self.with_token(request, token))
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        self.post_raw(token, path, body.to_string())
    }

    /// `DELETE path`.
    pub fn delete(&self, token: &str, path: &str) -> (u16, Value) {
        let request = self.client.delete(format!("{}{path}", self.url));
        self.send(self.with_token(request, token))
    }

    /// `guest` sealed to this service's host key as bundle `name`.
    pub fn sealed(&self, guest: Guest, name: &str, version: &str) -> Vec<u8> {
        seal_to(guest, name, version, self.key.public_key())
    }

    /// Upload `guest` as `name` for `token`'s tenant.
    pub fn upload(&self, token: &str, guest: Guest, name: &str) {
        let (status, body) = self.post_raw(token, "/v1/bundles", self.sealed(guest, name, "1.0.0"));
        assert_eq!(status, 201, "upload: {body}");
    }

    /// Poll deployment `id` until `done` holds of its status.
    pub fn wait_for(&self, token: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        let start = Instant::now();
        loop {
            let (status, body) = self.get(token, &format!("/v1/deployments/{id}"));
            assert_eq!(status, 200, "status of {id}: {body}");
            if done(&body) {
                return body;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "deployment {id} never reached the expected status: {body}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some((stop, _)) = self.server.take() {
            let _ = stop.send(());
        }
    }
}

/// `guest` sealed to `to` as bundle `name`.
pub fn seal_to(
    guest: Guest,
    name: &str,
    version: &str,
    to: &dyn stratbox_runtime::bundle::KeyWrapper,
) -> Vec<u8> {
    let runtime = Runtime::new(RuntimeConfig::default()).expect("runtime");
    runtime
        .seal_bundle(
            &guest.bytes(),
            StrategyMetadata::new(name, version, Language::Rust, "test author"),
            to,
        )
        .expect("seal")
}

/// A paper deployment of bundle `bundle` on a synthetic ETH/BTC tape,
/// ticking every 100 ms.
pub fn paper(id: &str, bundle: &str, config: Value) -> Value {
    json!({
        "id": id,
        "bundle": bundle,
        "config": config,
        "venue": {"paper": {
            "feed": {"synthetic": {"candles": 5000, "seed": 7}},
            "base": "ETH",
            "quote": "BTC"
        }},
        "schedule": {"every_ms": 100}
    })
}

/// The `error.code` of an error body.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("(no code)")
}
