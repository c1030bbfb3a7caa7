//! The standalone `.wasm`: two exports, a bump allocator and a panic handler.
//!
//! ```text
//! tl_alloc(n) -> ptr          room for the input (call once per decision)
//! tl_decide(ptr, len) -> ptr  decides; the result is u32s: slot count (0xFFFFFFFF when
//!                             the input or the compiled rules cannot be read), then per
//!                             slot: kind (0 wait, 1 default, 2 shown, 3 holdout),
//!                             experience, variant, sticky (0/1)
//! ```
//!
//! Input, little-endian: `u32` flags (1 the visitor has a profile, 2 count this page
//! view), `f64` now, `f64` page view start, `u32` hour, weekday, viewport width, then
//! strings as `u32` byte length + UTF-8: compiled rules (base64), url, host, path,
//! referrer, user agent, language, stored profile, unit; then `u32` query parameter
//! count and the parameters as name, value string pairs.

use alloc::vec::Vec;
use core::alloc::{GlobalAlloc, Layout};

use crate::profile;
use crate::vm::{Inputs, Outcome, Page, Program};

/// Never frees: a page decides a handful of times before the full engine takes over.
struct Bump;

static mut NEXT: usize = 0;
static mut END: usize = 0;

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if END == 0 {
            // The heap is the memory grown past what the module starts with (its
            // stack and data); nothing else grows it.
            NEXT = core::arch::wasm32::memory_size(0) << 16;
            END = NEXT;
        }
        let align = layout.align();
        let start = (NEXT + align - 1) & !(align - 1);
        let Some(end) = start.checked_add(layout.size()) else {
            return core::ptr::null_mut();
        };
        if end > END {
            let pages = (end - END).div_ceil(0x10000);
            if core::arch::wasm32::memory_grow(0, pages) == usize::MAX {
                return core::ptr::null_mut();
            }
            END += pages << 16;
        }
        NEXT = end;
        start as *mut u8
    }
    unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
}

#[global_allocator]
static ALLOC: Bump = Bump;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// Room for `n` bytes of input.
#[no_mangle]
pub extern "C" fn tl_alloc(n: usize) -> *mut u8 {
    let mut v = Vec::<u8>::with_capacity(n);
    let p = v.as_mut_ptr();
    core::mem::forget(v);
    p
}

struct In<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> In<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.i..self.i.checked_add(n)?)?;
        self.i += n;
        Some(s)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn f64(&mut self) -> Option<f64> {
        Some(f64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    /// A text: UTF-8 as TextEncoder writes it, kept as bytes (nothing here needs it
    /// validated).
    fn str(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

/// Standard base64 (padding optional); `None` on any other character.
fn base64(text: &[u8]) -> Option<Vec<u8>> {
    // Sized ahead (six bits a character): no growth path.
    let mut out = alloc::vec![0u8; text.len() * 3 / 4 + 1];
    let mut n = 0;
    let (mut acc, mut bits) = (0u32, 0);
    for &c in text {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = acc << 6 | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(n)? = (acc >> bits) as u8;
            n += 1;
        }
    }
    out.truncate(n);
    Some(out)
}

fn run(input: &[u8]) -> Option<Vec<u32>> {
    let mut r = In { b: input, i: 0 };
    let flags = r.u32()?;
    let (now, view_start) = (r.f64()?, r.f64()?);
    let (hour, weekday, viewport_width) = (r.u32()?, r.u32()?, r.u32()?);
    // Compiled rules, url, host, path, referrer, user agent, language, stored profile, unit.
    let mut t: [&[u8]; 9] = [&[]; 9];
    for s in &mut t {
        *s = r.str()?;
    }
    let n = r.u32()?;
    let mut query = Vec::new();
    for _ in 0..n {
        query.push((r.str()?, r.str()?));
    }
    let code = base64(t[0])?;
    let page = Page {
        url: t[1],
        host: t[2],
        path: t[3],
        query,
        referrer: t[4],
        user_agent: t[5],
        language: t[6],
        hour: hour.min(23) as u8,
        weekday: weekday.min(6) as u8,
        viewport_width,
    };
    let inputs = Inputs {
        page,
        profile: (flags & 1 != 0).then(|| profile::read_bytes(t[7])),
        count_page_view: flags & 2 != 0,
        unit: t[8],
        now,
        view_start,
    };
    let program = Program::read(&code).ok()?;
    let outcomes = program.decide(&inputs);
    // Sized ahead: no growth path.
    let mut out = alloc::vec![0u32; 1 + outcomes.len() * 4];
    out[0] = outcomes.len() as u32;
    for (o, w) in outcomes.iter().zip(out[1..].chunks_exact_mut(4)) {
        w.copy_from_slice(&match *o {
            Outcome::Wait => [0, 0, 0, 0],
            Outcome::Default => [1, 0, 0, 0],
            Outcome::Shown {
                experience,
                variant,
                sticky,
            } => [2, experience, variant, sticky as u32],
            Outcome::Holdout { experience } => [3, experience, 0, 0],
        });
    }
    Some(out)
}

/// Decides from the input at `ptr` (see the module docs).
#[no_mangle]
pub extern "C" fn tl_decide(ptr: *const u8, len: usize) -> *const u32 {
    // SAFETY: the caller wrote `len` bytes at `ptr`, which `tl_alloc` returned.
    let input = unsafe { core::slice::from_raw_parts(ptr, len) };
    let out = run(input).unwrap_or_else(|| alloc::vec![u32::MAX]);
    let p = out.as_ptr();
    core::mem::forget(out);
    p
}
