//! A local SMTP relay for tests that read what voltgate mails.

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A local SMTP sink: speaks just enough SMTP for a client to deliver, and hands over each
/// message's DATA.
pub async fn smtp_sink() -> (u16, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind SMTP sink");
    let port = listener.local_addr().expect("sink address").port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.ok()?;
                while let Ok(Some(line)) = lines.next_line().await {
                    let verb = line.to_ascii_uppercase();
                    if verb.starts_with("DATA") {
                        write.write_all(b"354 end with .\r\n").await.ok()?;
                        let mut data = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        tx.send(data).ok()?;
                        write.write_all(b"250 queued\r\n").await.ok()?;
                    } else if verb.starts_with("QUIT") {
                        write.write_all(b"221 bye\r\n").await.ok()?;
                        break;
                    } else {
                        write.write_all(b"250 ok\r\n").await.ok()?;
                    }
                }
                Some(())
            });
        }
    });
    (port, rx)
}
