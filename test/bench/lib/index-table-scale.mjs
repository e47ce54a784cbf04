// The scale scenario's index-only test: one host index table run (@snapfleet/providers, run
// files of caching/index-table) holding as many entries as a repository of 1 TiB of unique 4 KiB
// chunks has blobs (256 Mi), built from synthetic sorted ids, then looked up the way an archive
// does, one id at a time. Run as a child process, twice: `--build` writes the run, `--lookup`
// opens it in a fresh process (its RSS is the open table's alone) and times lookups. One JSON
// line on stdout.
//
//   node index-table-scale.mjs --build --file F --entries N
//   node index-table-scale.mjs --lookup --file F --entries N [--samples K]
//
// Lookups are timed twice: with the file as its build left it, and after reading it through
// once (in the page cache if the host's memory holds it).
//
// Synthetic ids are what keyed hashes look like to the table: the first 8 bytes rise evenly
// over the id space (entry i starts with floor(i * 2^32 / N), then i), the other 24 are
// pseudo-random from i, so lookups can regenerate any present id and random ids are misses.
import process from 'node:process';
import { Buffer } from 'node:buffer';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';

const { values: args } = parseArgs({
  options: {
    build: { type: 'boolean', default: false },
    lookup: { type: 'boolean', default: false },
    file: { type: 'string' },
    entries: { type: 'string' },
    samples: { type: 'string', default: '200000' },
  },
});
const N = Number(args.entries);
if (!args.file || !Number.isSafeInteger(N) || N <= 0) throw new Error('--file and a positive --entries are required');
const BLOBS_PER_PACK = 4096; // 16 MiB packs of 4 KiB chunks
const providers = await import('@snapfleet/providers');
const seconds = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;

/** Writes entry i's id into buf at offset. */
function idOf(i, buf, offset) {
  buf.writeUInt32BE(Math.floor((i * 2 ** 32) / N) >>> 0, offset);
  buf.writeUInt32BE(i >>> 0, offset + 4);
  let x = (i ^ 0x9e3779b9) >>> 0 || 1;
  for (let k = 8; k < 32; k += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf.writeUInt32BE(x >>> 0, offset + k);
  }
}

/** MemAvailable from /proc/meminfo, MiB (what the page cache can grow into). */
function memAvailable() {
  const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) / 1024 : undefined;
}

/** Reads the file once, 8 MiB at a time, into nothing: puts it in the page cache if it fits. */
function readThrough(path) {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(8 * 2 ** 20);
  let total = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.byteLength, total);
      if (n === 0) return total;
      total += n;
    }
  } finally {
    closeSync(fd);
  }
}

if (args.build) {
  const t0 = process.hrtime.bigint();
  const writer = new providers.RunWriter(args.file, N);
  const id = Buffer.alloc(32);
  for (let i = 0; i < N; i++) {
    idOf(i, id, 0);
    writer.add(id, 0, Math.floor(i / BLOBS_PER_PACK));
  }
  const packs = Array.from({ length: Math.ceil(N / BLOBS_PER_PACK) }, (_, p) => ({ packId: p.toString(16).padStart(64, '0'), packLength: 16 * 2 ** 20 }));
  writer.finish(packs);
  process.stdout.write(
    `${JSON.stringify({ entries: N, packs: packs.length, buildS: seconds(t0), bytes: statSync(args.file).size, fanoutBits: writer.bits, maxRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`,
  );
} else if (args.lookup) {
  const samples = Number(args.samples);
  const baseRssMiB = rssMiB();
  const t0 = process.hrtime.bigint();
  const reader = providers.RunReader.open(args.file);
  if (typeof reader === 'string') throw new Error(`${args.file}: ${reader}`);
  const openS = seconds(t0);
  const openRssMiB = rssMiB();
  // Ids prepared before the clock starts: the loop times lookups, not id generation.
  const present = Buffer.alloc(samples * 32);
  const absent = Buffer.alloc(samples * 32);
  const prepare = () => {
    for (let k = 0; k < samples; k++) idOf(Math.floor(Math.random() * N), present, k * 32);
    randomBytes(samples * 32).copy(absent);
  };
  const time = (ids) => {
    let found = 0;
    const t = process.hrtime.bigint();
    for (let o = 0; o < ids.byteLength; o += 32) if (reader.find(ids, o) >= 0) found++;
    return { s: seconds(t), found };
  };
  const pass = (label) => {
    prepare();
    const memAvailableMiB = memAvailable();
    const hits = time(present);
    const misses = time(absent);
    if (hits.found !== samples) throw new Error(`${label}: ${samples - hits.found} present ids not found`);
    if (misses.found !== 0) throw new Error(`${label}: ${misses.found} random ids found`);
    return { memAvailableMiB, hitUs: (hits.s / samples) * 1e6, missUs: (misses.s / samples) * 1e6, lookupsPerS: (2 * samples) / (hits.s + misses.s) };
  };
  // First as the file was left (after its build and whatever ran since: partly in the page
  // cache at best), then after reading it once end to end (in the page cache when the host has
  // the memory): the two ends of what a worker host sees.
  const asFound = pass('as found');
  const tw = process.hrtime.bigint();
  const warmedBytes = readThrough(args.file);
  const warmS = seconds(tw);
  const warm = pass('warm');
  reader.close();
  process.stdout.write(
    `${JSON.stringify({
      entries: N,
      samples,
      openS,
      asFound,
      warm,
      warmRead: { bytes: warmedBytes, s: warmS },
      // The warm pass's figures, as the headline (older reports read these).
      hitUs: warm.hitUs,
      missUs: warm.missUs,
      lookupsPerS: warm.lookupsPerS,
      baseRssMiB,
      openRssMiB,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
    })}\n`,
  );
} else {
  throw new Error('give --build or --lookup');
}
