// Reassembly buffers: a fixed pool of equal slabs with a free stack. A direction of a
// TCP flow holds at most one slab (the per-flow cap); when the pool is empty the
// direction is abandoned and counted, so total reassembly memory is bounded at init.

/** Slab size: one maximal TLS record (5 + 16384 + 2048 for expansion) plus slack. */
export const SLAB_SIZE: i32 = 20480;

let base: usize = 0;
let freeStack: usize = 0;
let freeTop: i32 = 0;
let count: i32 = 0;
export let slabsInUse: i32 = 0;
export let slabsPeak: i32 = 0;

export function slabInit(mem: usize, stack: usize, n: i32): void {
  base = mem;
  freeStack = stack;
  count = n;
  freeTop = n;
  for (let i = 0; i < n; i++) store<i32>(stack + (<usize>i << 2), n - 1 - i);
  slabsInUse = 0;
  slabsPeak = 0;
}

export function slabBytes(n: i32): usize {
  return <usize>n * <usize>SLAB_SIZE + <usize>n * 4;
}

/** Takes a slab; -1 when the pool is exhausted. */
export function slabAlloc(): i32 {
  if (freeTop == 0) return -1;
  freeTop--;
  slabsInUse++;
  if (slabsInUse > slabsPeak) slabsPeak = slabsInUse;
  return load<i32>(freeStack + (<usize>freeTop << 2));
}

export function slabFree(i: i32): void {
  store<i32>(freeStack + (<usize>freeTop << 2), i);
  freeTop++;
  slabsInUse--;
}

// @ts-ignore: decorator
@inline export function slabPtr(i: i32): usize {
  return base + <usize>i * <usize>SLAB_SIZE;
}
