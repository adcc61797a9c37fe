//! A minimal HTTP/1.1 client on hyper: one keep-alive connection per [`Conn`], so the
//! driver controls exactly how many connections it opens.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::Result;

/// One keep-alive HTTP/1.1 connection.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

impl Conn {
    /// Connects (TCP_NODELAY on) and performs the HTTP/1 handshake; the connection is
    /// driven by a task on the current runtime until it is dropped.
    pub async fn open(addr: SocketAddr) -> Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake with {addr}: {e}"))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Conn {
            sender,
            host: addr.to_string(),
        })
    }

    /// Sends one request and reads the whole response.
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<(u16, Bytes)> {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.host.as_str());
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(Full::new(body))?;
        self.sender
            .ready()
            .await
            .map_err(|e| format!("{method} {path}: connection closed: {e}"))?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{method} {path}: reading the response: {e}"))?
            .to_bytes();
        Ok((status, body))
    }

    /// `POST path` with a JSON body.
    pub async fn post_json(&mut self, path: &str, body: impl Into<Bytes>) -> Result<(u16, Bytes)> {
        self.send(
            "POST",
            path,
            &[("content-type", "application/json")],
            body.into(),
        )
        .await
    }

    pub async fn get(&mut self, path: &str) -> Result<(u16, Bytes)> {
        self.send("GET", path, &[], Bytes::new()).await
    }
}

/// One request on a connection of its own.
pub async fn once(addr: SocketAddr, method: &str, path: &str, body: Bytes) -> Result<(u16, Bytes)> {
    let mut conn = Conn::open(addr).await?;
    conn.send(method, path, &[("content-type", "application/json")], body)
        .await
}
