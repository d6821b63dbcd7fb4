//! The server's log captured in memory ([`Builder::capture_logs`](crate::Builder::capture_logs)).

use std::time::Duration;

use serde_json::Value;

/// The server's log, one JSON object per line, kept in memory.
#[derive(Clone, Default)]
pub struct LogCapture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    /// Everything logged so far.
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log lock")).into_owned()
    }

    /// Every line logged so far, parsed (panics on a line that is not JSON).
    #[must_use]
    pub fn lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// The `request` line of the request with id `request_id`, waiting up to
    /// 5 s for it (the line is written once the response is on its way).
    pub async fn request_line(&self, request_id: &str) -> Value {
        for _ in 0..500 {
            if let Some(l) = self
                .lines()
                .into_iter()
                .find(|l| l["msg"] == "request" && l["request_id"] == request_id)
            {
                return l;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no request line for {request_id}:\n{}", self.text());
    }
}
