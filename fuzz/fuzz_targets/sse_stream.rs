//! The SSE reader and the stream opener of the stream vector: input = [max_line] [split] ‖
//! bytes. Every opened chunk must be the server's chunk of that index; End only after all.
#![no_main]
use libfuzzer_sys::fuzz_target;
use nen_core::stream::{SseParser, StreamEvent};
use nen_fuzz::stream_request;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (client, req, v) = stream_request();
    let chunks: Vec<&str> = v["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let header = v["response_headers"]["x-nen-stream-nonce"].as_str();
    let max_line = 64 + data[0] as usize * 64;
    let split = data[1] as usize;
    let bytes = &data[2..];
    let mut parser = SseParser::new(max_line);
    let Ok(mut opener) = client.stream_opener(req, header) else {
        return;
    };
    let mut seen = 0usize;
    let mut ended = false;
    let mut pieces = vec![
        &bytes[..split.min(bytes.len())],
        &bytes[split.min(bytes.len())..],
    ];
    pieces.retain(|p| !p.is_empty());
    for piece in pieces {
        let Ok(frames) = parser.feed(piece) else {
            return;
        };
        for f in frames {
            assert!(f.data.len() <= max_line);
            match opener.open_frame(f.event.as_deref(), &f.data) {
                Ok(StreamEvent::Data(d)) => {
                    assert!(!ended);
                    assert_eq!(
                        Some(d.as_slice()),
                        chunks.get(seen).map(|c| c.as_bytes()),
                        "forged chunk"
                    );
                    seen += 1;
                }
                Ok(StreamEvent::End) => {
                    assert_eq!(seen, chunks.len(), "end before every chunk");
                    ended = true;
                }
                Err(_) => {}
            }
        }
    }
    if opener.finish().is_ok() {
        assert!(ended && seen == chunks.len());
    }
});
