//! Assembling a 60 s 1280×720 video from 6 still PNG scenes of 10 s, each
//! with a narration WAV: the real-time factor is 60 s / the time taken.
//!
//! `cargo bench -p ytvc-assembly -- --sample-size 10`

#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use ytvc_assembly::Mp4Assembler;
use ytvc_domain::AspectRatio;
use ytvc_domain::media::{AssemblyRequest, AssemblyScene, MediaBlob, MediaFormat, VisualSource};

/// A 1280×720 picture with gradients and shapes (so the encoder has detail
/// to code), different per scene.
fn still(seed: u32) -> Vec<u8> {
    let (w, h) = (1280u32, 720u32);
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let disc = {
                let (dx, dy) = (x as i64 - (300 + seed as i64 * 120), y as i64 - 360);
                dx * dx + dy * dy < 150 * 150
            };
            let stripe = ((x / 40 + y / 40 + seed) % 2) as u8 * 30;
            let r = (x * 255 / w) as u8 ^ (seed as u8 * 40);
            let g = (y * 255 / h) as u8;
            let b = if disc { 240 } else { 80 + stripe };
            rgb.extend_from_slice(&[r, g, b]);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&rgb).unwrap();
    writer.finish().unwrap();
    out
}

/// 16 kHz mono 16-bit narration of `seconds`: a warbling tone.
fn narration(seconds: u32, seed: u32) -> Vec<u8> {
    let rate = 16_000u32;
    let samples: Vec<u8> = (0..rate * seconds)
        .flat_map(|i| {
            let t = f64::from(i) / f64::from(rate);
            let f = 180.0 + 40.0 * f64::from(seed) + 30.0 * (t * 3.0).sin();
            (((t * f * std::f64::consts::TAU).sin() * 6000.0) as i16).to_le_bytes()
        })
        .collect();
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(36 + samples.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    out.extend_from_slice(&samples);
    out
}

fn request() -> AssemblyRequest {
    AssemblyRequest {
        video_id: "bench".into(),
        aspect_ratio: AspectRatio::Landscape,
        scenes: (1..=6)
            .map(|index| AssemblyScene {
                index,
                duration_seconds: 10,
                visual: MediaBlob::new(MediaFormat::Png, still(index)),
                visual_source: VisualSource::Still,
                narration: Some(MediaBlob::new(MediaFormat::Wav, narration(9, index))),
            })
            .collect(),
    }
}

fn bench(c: &mut Criterion) {
    let request = request();
    let assembler = Mp4Assembler::default();
    // One timed run first, for a plain real-time figure.
    let start = Instant::now();
    let out = assembler.assemble_blocking(&request).unwrap();
    let took = start.elapsed();
    if let Some(path) = std::env::var_os("YTVC_BENCH_OUT") {
        std::fs::write(path, &out.bytes).unwrap();
    }
    println!(
        "60 s 1280x720 at {} fps: {:.2} s, {:.1}x real time, {} KiB",
        assembler.config().fps,
        took.as_secs_f64(),
        60.0 / took.as_secs_f64(),
        out.bytes.len() / 1024
    );
    let mut group = c.benchmark_group("assemble");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    group.bench_function("60s_720p_6_stills", |b| {
        b.iter(|| assembler.assemble_blocking(black_box(&request)).unwrap());
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
