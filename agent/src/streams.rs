//! The streams Base opens to this agent, one task each. What a stream is for comes with it
//! ([`StreamOpen`]); logs, consoles and file transfers join `Echo` here as they land.

use proto::wire::{MuxStream, StreamOpen};

/// Serves one stream until it ends. Errors end only that stream: the connection and the other
/// streams carry on.
pub async fn serve(stream: MuxStream) {
    let id = stream.id();
    let result = match stream.purpose().clone() {
        StreamOpen::Echo => echo(stream).await,
        StreamOpen::Logs => {
            // Logs flow from the agent to Base, never the other way.
            stream.reset("dployrd does not accept log streams");
            Ok(())
        }
    };
    if let Err(e) = result {
        tracing::debug!(stream = id, error = %e, "stream ended");
    }
}

/// Sends back every byte it receives, then closes: Base's way to check the tunnel end to end
/// (and the flow-control test's well-behaved peer). It reads only as fast as Base takes the
/// echo, so a Base that stops reading stops it too, within the stream's credit window.
async fn echo(mut stream: MuxStream) -> Result<(), proto::wire::StreamError> {
    while let Some(bytes) = stream.recv().await? {
        stream.send(&bytes).await?;
    }
    stream.close()
}
