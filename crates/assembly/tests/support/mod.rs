//! Inputs made on the fly (PNG, JPEG, APNG, WAV) and a reader that checks an
//! assembled MP4 with the `mp4` crate and OpenH264's decoder.

#![allow(dead_code, missing_docs)]

use std::io::Cursor;

use mp4::{MediaType, Mp4Reader, TrackType};
use openh264::OpenH264API;
use openh264::decoder::{Decoder, DecoderConfig, Flush};
use openh264::formats::YUVSource;
use ytvc_assembly::MOVIE_TIMESCALE;
use ytvc_domain::AspectRatio;
use ytvc_domain::media::{AssemblyRequest, AssemblyScene, MediaBlob, MediaFormat, VisualSource};

pub type Rgb = [u8; 3];

/// A solid-colour RGB PNG.
pub fn png(width: u32, height: u32, colour: Rgb) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer
        .write_image_data(&colour.repeat((width * height) as usize))
        .unwrap();
    writer.finish().unwrap();
    out
}

/// An APNG whose frames are solid `colours`, each shown `delay_ms`.
pub fn apng(width: u32, height: u32, colours: &[Rgb], delay_ms: u16) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_animated(colours.len() as u32, 0).unwrap();
    encoder.set_frame_delay(delay_ms, 1000).unwrap();
    let mut writer = encoder.write_header().unwrap();
    for colour in colours {
        writer
            .write_image_data(&colour.repeat((width * height) as usize))
            .unwrap();
    }
    writer.finish().unwrap();
    out
}

/// A solid-colour JPEG.
pub fn jpeg(width: u16, height: u16, colour: Rgb) -> Vec<u8> {
    let mut out = Vec::new();
    let encoder = jpeg_encoder::Encoder::new(&mut out, 90);
    encoder
        .encode(
            &colour.repeat(usize::from(width) * usize::from(height)),
            width,
            height,
            jpeg_encoder::ColorType::Rgb,
        )
        .unwrap();
    out
}

/// A 16-bit PCM WAV of a sine tone.
pub fn wav(rate: u32, channels: u16, seconds: f64, freq: f64) -> Vec<u8> {
    let frames = (f64::from(rate) * seconds) as usize;
    let mut data = Vec::with_capacity(frames * 2 * usize::from(channels));
    for i in 0..frames {
        let s = ((i as f64 * freq * std::f64::consts::TAU / f64::from(rate)).sin() * 8000.0) as i16;
        for _ in 0..channels {
            data.extend_from_slice(&s.to_le_bytes());
        }
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2 * u32::from(channels)).to_le_bytes());
    out.extend_from_slice(&(2 * channels).to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    out
}

pub fn scene(
    index: u32,
    seconds: u32,
    visual: MediaBlob,
    source: VisualSource,
    narration: Option<Vec<u8>>,
) -> AssemblyScene {
    AssemblyScene {
        index,
        duration_seconds: seconds,
        visual,
        visual_source: source,
        narration: narration.map(|bytes| MediaBlob::new(MediaFormat::Wav, bytes)),
    }
}

pub fn request(aspect: AspectRatio, scenes: Vec<AssemblyScene>) -> AssemblyRequest {
    AssemblyRequest {
        video_id: "test-video".into(),
        aspect_ratio: aspect,
        scenes,
    }
}

/// What an assembled MP4 holds, read back.
#[derive(Debug)]
pub struct Inspection {
    pub width: u16,
    pub height: u16,
    pub video_samples: u32,
    /// The duration of each video sample, in movie ticks (a picture that
    /// does not change is held: one sample lasting several frames).
    pub sample_ticks: Vec<u32>,
    pub video_seconds: f64,
    pub audio_seconds: f64,
    pub movie_seconds: f64,
    pub first_is_sync: bool,
    pub sync_samples: u32,
    /// Average (Y, U, V) of the central quarter of the first and last
    /// decoded pictures.
    pub first_yuv: [f64; 3],
    pub last_yuv: [f64; 3],
    pub decoded_pictures: usize,
}

/// Reads `bytes` back and decodes every picture; panics on anything that
/// is not one H.264 track plus one AAC track.
pub fn inspect(bytes: &[u8]) -> Inspection {
    let mut reader = Mp4Reader::read_header(Cursor::new(bytes), bytes.len() as u64).unwrap();
    assert_eq!(reader.tracks().len(), 2, "two tracks");
    let video: Vec<_> = reader
        .tracks()
        .values()
        .filter(|t| t.track_type().unwrap() == TrackType::Video)
        .collect();
    let audio: Vec<_> = reader
        .tracks()
        .values()
        .filter(|t| t.track_type().unwrap() == TrackType::Audio)
        .collect();
    assert_eq!(
        (video.len(), audio.len()),
        (1, 1),
        "one video and one audio track"
    );
    let (video, audio) = (video[0], audio[0]);
    assert_eq!(video.media_type().unwrap(), MediaType::H264);
    assert!(
        video.trak.mdia.minf.stbl.stsd.avc1.is_some(),
        "avc1 sample entry"
    );
    assert_eq!(audio.media_type().unwrap(), MediaType::AAC);
    assert_eq!(reader.moov.mvhd.timescale, MOVIE_TIMESCALE);

    // The audio track presents its edit: priming skipped, exact length.
    let elst = audio
        .trak
        .edts
        .as_ref()
        .and_then(|e| e.elst.as_ref())
        .expect("audio edit list");
    assert_eq!(elst.entries.len(), 1);
    let edit = &elst.entries[0];
    let audio_seconds = edit.segment_duration as f64 / f64::from(MOVIE_TIMESCALE);
    let media_end = edit.media_time as f64 / f64::from(audio.timescale()) + audio_seconds;
    let media_seconds = audio.trak.mdia.mdhd.duration as f64 / f64::from(audio.timescale());
    assert!(
        media_seconds + 1e-9 >= media_end,
        "audio media covers its edit"
    );
    assert!(media_seconds - media_end < 1024.0 / f64::from(audio.timescale()) + 1e-9);
    assert_eq!(audio.trak.tkhd.duration, edit.segment_duration);

    let video_id = video.track_id();
    let video_seconds = video.trak.mdia.mdhd.duration as f64 / f64::from(video.timescale());
    let (width, height) = (video.width(), video.height());
    let avcc = &video.trak.mdia.minf.stbl.stsd.avc1.as_ref().unwrap().avcc;
    let mut headers = Vec::new();
    for set in avcc
        .sequence_parameter_sets
        .iter()
        .chain(&avcc.picture_parameter_sets)
    {
        headers.extend_from_slice(&[0, 0, 0, 1]);
        headers.extend_from_slice(&set.bytes);
    }
    let video_samples = video.sample_count();
    let sample_ticks: Vec<u32> = video
        .trak
        .mdia
        .minf
        .stbl
        .stts
        .entries
        .iter()
        .flat_map(|e| std::iter::repeat_n(e.sample_delta, e.sample_count as usize))
        .collect();
    assert_eq!(sample_ticks.len(), video_samples as usize);
    let sync_samples = video
        .trak
        .mdia
        .minf
        .stbl
        .stss
        .as_ref()
        .map_or(video_samples, |s| s.entries.len() as u32);
    let movie_seconds = reader.moov.mvhd.duration as f64 / f64::from(reader.moov.mvhd.timescale);

    let config = DecoderConfig::new().flush_after_decode(Flush::NoFlush);
    let mut decoder = Decoder::with_api_config(OpenH264API::from_source(), config).unwrap();
    decoder.decode(&headers).unwrap();
    let mut first_is_sync = false;
    let (mut first_yuv, mut last_yuv) = (None, [0.0; 3]);
    let mut decoded_pictures = 0;
    for id in 1..=video_samples {
        let sample = reader.read_sample(video_id, id).unwrap().unwrap();
        if id == 1 {
            first_is_sync = sample.is_sync;
        }
        let mut annex_b = Vec::new();
        let mut pos = 0;
        while pos < sample.bytes.len() {
            let len = u32::from_be_bytes(sample.bytes[pos..pos + 4].try_into().unwrap()) as usize;
            annex_b.extend_from_slice(&[0, 0, 0, 1]);
            annex_b.extend_from_slice(&sample.bytes[pos + 4..pos + 4 + len]);
            pos += 4 + len;
        }
        if let Some(picture) = decoder.decode(&annex_b).unwrap() {
            let avg = centre_average(&picture);
            first_yuv.get_or_insert(avg);
            last_yuv = avg;
            decoded_pictures += 1;
        }
    }
    for picture in decoder.flush_remaining().unwrap() {
        last_yuv = centre_average(&picture);
        decoded_pictures += 1;
    }
    Inspection {
        width,
        height,
        video_samples,
        sample_ticks,
        video_seconds,
        audio_seconds,
        movie_seconds,
        first_is_sync,
        sync_samples,
        first_yuv: first_yuv.expect("a decoded picture"),
        last_yuv,
        decoded_pictures,
    }
}

fn centre_average(picture: &impl YUVSource) -> [f64; 3] {
    let (w, h) = picture.dimensions();
    let (sy, su, sv) = picture.strides();
    let avg = |plane: &[u8], stride: usize, w: usize, h: usize| {
        let (mut sum, mut n) = (0u64, 0u64);
        for y in h / 4..h * 3 / 4 {
            for x in w / 4..w * 3 / 4 {
                sum += u64::from(plane[y * stride + x]);
                n += 1;
            }
        }
        sum as f64 / n as f64
    };
    [
        avg(picture.y(), sy, w, h),
        avg(picture.u(), su, w / 2, h / 2),
        avg(picture.v(), sv, w / 2, h / 2),
    ]
}

/// BT.601 limited-range YUV of an RGB colour.
pub fn bt601(rgb: Rgb) -> [f64; 3] {
    let [r, g, b] = rgb.map(f64::from);
    [
        16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0,
        128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0,
        128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0,
    ]
}

/// Asserts `actual` is within `tolerance` of `rgb` on each of Y, U, V.
pub fn assert_colour(actual: [f64; 3], rgb: Rgb, tolerance: f64) {
    let expected = bt601(rgb);
    for c in 0..3 {
        assert!(
            (actual[c] - expected[c]).abs() <= tolerance,
            "YUV {actual:?} is not {expected:?} (RGB {rgb:?})"
        );
    }
}

/// An MP4 with a single AAC track and no video.
pub fn audio_only_mp4() -> Vec<u8> {
    use mp4::{AacConfig, Bytes, MediaConfig, Mp4Config, Mp4Sample, Mp4Writer, TrackConfig};
    let config = Mp4Config {
        major_brand: "isom".parse().unwrap(),
        minor_version: 0,
        compatible_brands: vec!["isom".parse().unwrap()],
        timescale: 1000,
    };
    let mut writer = Mp4Writer::write_start(Cursor::new(Vec::new()), &config).unwrap();
    writer
        .add_track(&TrackConfig {
            track_type: TrackType::Audio,
            timescale: 48_000,
            language: "und".into(),
            media_conf: MediaConfig::AacConfig(AacConfig::default()),
        })
        .unwrap();
    for i in 0..4u64 {
        let sample = Mp4Sample {
            start_time: i * 1024,
            duration: 1024,
            rendering_offset: 0,
            is_sync: true,
            bytes: Bytes::from_static(&[0x21, 0x10, 0x04]),
        };
        writer.write_sample(1, &sample).unwrap();
    }
    writer.write_end().unwrap();
    writer.into_writer().into_inner()
}
