// Loads an HTML file in headless Chromium over the DevTools protocol (--remote-debugging-pipe:
// JSON messages ending in NUL, commands on fd 3, replies and events on fd 4; no packages needed)
// and checks what a reader would notice: console errors, uncaught exceptions, images that do not
// decode, missing report sections, and a blank page (from a screenshot).
//
//   node browser_check.mjs [--expect-broken] CHROMIUM PAGE.html SCREENSHOT.png
//
// With --expect-broken the page must show at least one console error and one broken image: the
// test's proof that the checks can fail.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';

const args = process.argv.slice(2);
const expectBroken = args[0] === '--expect-broken';
if (expectBroken) args.shift();
const [chromiumPath, pagePath, screenshotPath] = args;
const kSections = ['reading', 'metrics', 'charts', 'predictions', 'configuration', 'summaries', 'history'];
const kTimeoutMs = 60000;

const profile = mkdtempSync(join(tmpdir(), 'bnlab-chromium-'));
const browser = spawn(chromiumPath, [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--hide-scrollbars', `--user-data-dir=${profile}`,
  '--remote-debugging-pipe', 'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], detached: true });
let browserLog = '';
browser.stderr.on('data', (chunk) => { browserLog += chunk; });

const timer = setTimeout(() => fail(`timed out after ${kTimeoutMs / 1000} s`), kTimeoutMs);

// Chromium and its helper processes (network service, crashpad, zygote) write into the profile
// until they have all exited, and the helpers can outlive the main process. So: wait for the main
// process, then kill its whole process group (it was started detached, as a group leader), then
// remove the profile. A profile that still cannot be removed is a leaked temp folder, reported on
// stderr, not a failed check.
async function cleanUp() {
  closing = true;
  clearTimeout(timer);
  if (browser.exitCode === null && browser.signalCode === null) {
    const exited = new Promise((r) => browser.once('exit', r));
    try { process.kill(-browser.pid, 'SIGTERM'); } catch { browser.kill(); }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  }
  try { process.kill(-browser.pid, 'SIGKILL'); } catch { /* the group is gone already */ }
  for (let attempt = 1; ; ++attempt) {
    try {
      rmSync(profile, { recursive: true, force: true });
      return;
    } catch (error) {
      if (attempt === 10) {
        console.error(`note: could not remove the Chromium profile ${profile}: ${error.message}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

async function fail(message) {
  console.error(`browser check FAILED: ${message}`);
  if (browserLog) console.error(`--- chromium stderr (last 2000 chars) ---\n${browserLog.slice(-2000)}`);
  await cleanUp();
  process.exit(1);
}

// ---- the protocol --------------------------------------------------------------------------------
let nextId = 1;
const pending = new Map();
const listeners = [];
let received = Buffer.alloc(0);

browser.stdio[4].on('data', (chunk) => {
  received = Buffer.concat([received, chunk]);
  for (let end = received.indexOf(0); end >= 0; end = received.indexOf(0)) {
    const message = JSON.parse(received.subarray(0, end).toString('utf8'));
    received = received.subarray(end + 1);
    if (message.id !== undefined) {
      const { resolve: done, reject, method } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) reject(new Error(`${method}: ${message.error.message}`));
      else done(message.result);
    } else {
      for (const listener of listeners) listener(message);
    }
  }
});
let closing = false;
browser.on('exit', (code, signal) => {
  if (!closing && pending.size > 0) fail(`chromium exited (code ${code}, signal ${signal}) with commands pending`);
});
browser.on('error', (error) => fail(`cannot start ${chromiumPath}: ${error.message}`));

function send(method, params = {}, sessionId = undefined) {
  const id = nextId++;
  browser.stdio[3].write(JSON.stringify({ id, method, params, sessionId }) + '\0');
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
}

function nextEvent(method, sessionId) {
  return new Promise((resolve) => {
    listeners.push((m) => { if (m.method === method && m.sessionId === sessionId) resolve(m.params); });
  });
}

// ---- PNG decoding, to tell a blank screenshot from a drawn one ----------------------------------------
function pngPixels(png) {
  let offset = 8, width = 0, height = 0, channels = 0;
  const idat = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || (data[9] !== 2 && data[9] !== 6) || data[12] !== 0)
        throw new Error(`unexpected PNG format (bit depth ${data[8]}, colour type ${data[9]}, interlace ${data[12]})`);
      channels = data[9] === 6 ? 4 : 3;
    }
    if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; ++y) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; ++x) {
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + x] = (line[x] + predictor) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

function screenshotStats({ width, height, channels, pixels }) {
  const colours = new Set();
  let nonWhite = 0;
  for (let i = 0; i < width * height; ++i) {
    const r = pixels[i * channels], g = pixels[i * channels + 1], b = pixels[i * channels + 2];
    colours.add((r << 16) | (g << 8) | b);
    if (r < 250 || g < 250 || b < 250) ++nonWhite;
  }
  return { nonWhiteFraction: nonWhite / (width * height), colours: colours.size };
}

// ---- the check ------------------------------------------------------------------------------------------
const problems = [];
const consoleErrors = [];

try {
  const { targetInfos } = await send('Target.getTargets');
  let page = targetInfos.find((t) => t.type === 'page');
  const targetId = page ? page.targetId : (await send('Target.createTarget', { url: 'about:blank' })).targetId;
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  listeners.push((m) => {
    if (m.sessionId !== sessionId) return;
    if (m.method === 'Runtime.consoleAPICalled' && (m.params.type === 'error' || m.params.type === 'assert'))
      consoleErrors.push(`console.${m.params.type}: ${m.params.args.map((a) => a.value ?? a.description).join(' ')}`);
    if (m.method === 'Runtime.exceptionThrown')
      consoleErrors.push(`uncaught: ${m.params.exceptionDetails.exception?.description ?? m.params.exceptionDetails.text}`);
    if (m.method === 'Log.entryAdded' && m.params.entry.level === 'error')
      consoleErrors.push(`log: ${m.params.entry.text}${m.params.entry.url ? ` (${m.params.entry.url.slice(0, 80)})` : ''}`);
  });
  await send('Page.enable', {}, sessionId);
  await send('Runtime.enable', {}, sessionId);
  await send('Log.enable', {}, sessionId);
  await send('Emulation.setDeviceMetricsOverride', { width: 1200, height: 2000, deviceScaleFactor: 1, mobile: false }, sessionId);

  const loaded = nextEvent('Page.loadEventFired', sessionId);
  const url = pathToFileURL(resolve(pagePath)).href;
  const navigation = await send('Page.navigate', { url }, sessionId);
  if (navigation.errorText) throw new Error(`navigation to ${url} failed: ${navigation.errorText}`);
  await loaded;

  const { result } = await send('Runtime.evaluate', {
    expression: `(async () => {
      const images = [...document.images];
      const decoded = await Promise.all(images.map((img) => img.decode().then(() => true, () => false)));
      return {
        images: images.length,
        broken: images.filter((img, i) => !decoded[i] || img.naturalWidth === 0).map((img) => img.alt || img.src.slice(0, 50)),
        sections: [...document.querySelectorAll('section')].map((s) => s.id),
        title: document.title,
      };
    })()`,
    awaitPromise: true,
    returnByValue: true,
  }, sessionId);
  const page_ = result.value;

  const shot = await send('Page.captureScreenshot', { format: 'png' }, sessionId);
  const png = Buffer.from(shot.data, 'base64');
  writeFileSync(screenshotPath, png);
  const decoded = pngPixels(png);
  const stats = screenshotStats(decoded);
  // Let late console messages arrive before judging.
  await new Promise((r) => setTimeout(r, 300));

  const summary = `${page_.images} images (${page_.broken.length} broken), ${consoleErrors.length} console errors, ` +
    `screenshot ${decoded.width}x${decoded.height} ${(100 * stats.nonWhiteFraction).toFixed(1)}% non-white, ` +
    `${stats.colours} colours`;
  if (expectBroken) {
    if (consoleErrors.length === 0) problems.push('the broken page showed no console error');
    if (page_.broken.length === 0) problems.push('the broken page showed no broken image');
    if (problems.length === 0) console.log(`browser check rejects a broken page: ${summary}`);
  } else {
    for (const error of consoleErrors) problems.push(error);
    for (const image of page_.broken) problems.push(`image did not decode: ${image}`);
    if (page_.images < 1) problems.push('the page has no images');
    for (const id of kSections) if (!page_.sections.includes(id)) problems.push(`section #${id} is missing`);
    if (stats.nonWhiteFraction < 0.05) problems.push(`screenshot is nearly blank (${(100 * stats.nonWhiteFraction).toFixed(2)}% non-white)`);
    if (stats.colours < 50) problems.push(`screenshot has only ${stats.colours} colours`);
    if (problems.length === 0) console.log(`browser check passed: "${page_.title}": ${summary}; screenshot in ${screenshotPath}`);
  }
} catch (error) {
  problems.push(error.stack ?? String(error));
}

closing = true;
await Promise.race([send('Browser.close').catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
if (problems.length > 0) await fail(problems.join('\n  '));
await cleanUp();
process.exit(0);
