#!/usr/bin/env node
// Builds Piramid's native FAISS binding: faiss-node 0.5.1's src/faiss.cc, patched by
// native/faiss-node.patch, compiled with node-gyp against FAISS (see /work/shared/FAISS.md).
//
//   route B (default on AVX2 CPUs): Debian's FAISS 1.7.3 source built with FAISS_OPT_LEVEL=avx2,
//            linked statically, plus OpenBLAS' OpenMP variant (by path, with an rpath) and libgomp.
//   route A (fallback):              Debian's libfaiss-dev static library (generic scalar code, slow).
//
// Runs as the package's postinstall and directly:
//   node scripts/install-native.mjs [--route A|B] [--out DIR] [--force] [--jobs N]
// Env: PIRAMID_NATIVE_ROUTE=A|B, PIRAMID_CACHE_DIR, PIRAMID_NATIVE_JOBS, PIRAMID_SKIP_NATIVE=1.
//
// Everything expensive is cached outside node_modules and the repo, in
// ${PIRAMID_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/piramid}:
//   tarballs/faiss-node-0.5.1.tgz          the npm tarball (integrity-checked)
//   faiss-src/<debian version>/            Debian's FAISS source tree (apt-get source)
//   faiss-lib/<debian version>-<opt>/      libfaiss_<opt>.a built from it, with lib-info.json
//   addon/<cache key>/                     faiss-node.node and build-info.json
// Entries are built in tmp/ and renamed into place, under a lock file, so an interrupted or
// concurrent install never sees half an entry. Uses Node builtins only.

import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FAISS_NODE_VERSION = '0.5.1';
const FAISS_NODE_INTEGRITY =
  'sha512-zD8wobJn8C6OLWo68Unho+Ih8l6nSRB2w3Amj01a+xc4bsEvd2mBDLklAn7VocA9XO3WDvQL/bLpi5flkCn/XQ==';
// Bump when the way the addon or the FAISS library is compiled changes in this script.
const RECIPE_VERSION = 1;
const LOCK_STALE_MS = 2 * 60 * 60 * 1000;
const LOCK_WAIT_MS = 30 * 60 * 1000;

const startedAt = Date.now();
const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = path.join(projectRoot, 'native');

class InstallError extends Error {
  constructor(message, { log, compileFailure = false, fatal = false } = {}) {
    super(message);
    this.log = log;
    this.compileFailure = compileFailure; // a failed compile marks route B as failed in the cache
    this.fatal = fatal; // no point falling back (e.g. not root and packages missing)
  }
}

const say = (msg) => process.stderr.write(`piramid-native: ${msg}\n`);
const secs = (ms) => `${(ms / 1000).toFixed(1)}s`;

// ---------------------------------------------------------------------------------------------
// arguments and environment

function parseArgs(argv) {
  const opts = { route: undefined, out: undefined, force: false, jobs: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const eq = a.indexOf('=');
      if (eq >= 0) return a.slice(eq + 1);
      if (i + 1 >= argv.length) throw new InstallError(`${a} needs a value`, { fatal: true });
      return argv[++i];
    };
    if (a === '--route' || a.startsWith('--route=')) opts.route = value().toUpperCase();
    else if (a === '--out' || a.startsWith('--out=')) opts.out = value();
    else if (a === '--jobs' || a.startsWith('--jobs=')) opts.jobs = Number(value());
    else if (a === '--force') opts.force = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(
        'usage: node scripts/install-native.mjs [--route A|B] [--out DIR] [--jobs N] [--force]\n' +
          '  --route  A: Debian libfaiss-dev (generic), B: AVX2 build of Debian FAISS source + OpenBLAS\n' +
          '           (default: B when the CPU has AVX2, else A; env PIRAMID_NATIVE_ROUTE)\n' +
          '  --out    install folder, relative to the project (default native/build)\n' +
          '  --force  rebuild the addon even when cached\n',
      );
      process.exit(0);
    } else throw new InstallError(`unknown argument ${a} (see --help)`, { fatal: true });
  }
  opts.route ??= process.env.PIRAMID_NATIVE_ROUTE ? process.env.PIRAMID_NATIVE_ROUTE.toUpperCase() : undefined;
  if (opts.route !== undefined && opts.route !== 'A' && opts.route !== 'B') {
    throw new InstallError(`route must be A or B, got "${opts.route}"`, { fatal: true });
  }
  opts.jobs ??= Number(process.env.PIRAMID_NATIVE_JOBS) || Math.min(os.availableParallelism(), 8);
  opts.outDir = path.resolve(projectRoot, opts.out ?? path.join('native', 'build'));
  return opts;
}

function cacheRoot() {
  if (process.env.PIRAMID_CACHE_DIR) return path.resolve(process.env.PIRAMID_CACHE_DIR);
  const xdg = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(xdg, 'piramid');
}

function cpuHasAvx2() {
  try {
    const flags = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m);
    return flags !== null && flags[1].split(/\s+/).includes('avx2');
  } catch {
    return false;
  }
}

const multiarch = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' }[process.arch] ?? `${process.arch}-linux-gnu`;
const OPENBLAS_OPENMP_DIR = `/usr/lib/${multiarch}/openblas-openmp`;

// ---------------------------------------------------------------------------------------------
// small helpers: hashing, json, atomic files, running commands with a log

const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex');

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function copyFileAtomic(src, dest) {
  const tmp = `${dest}.tmp-${process.pid}`;
  fs.copyFileSync(src, tmp);
  fs.renameSync(tmp, dest); // never overwrite in place: a running process may have dest mapped
}

/** Moves a finished temp folder into its cache place; a concurrent winner's entry is kept. */
function commitDir(tmpDir, finalDir) {
  fs.mkdirSync(path.dirname(finalDir), { recursive: true });
  try {
    fs.renameSync(tmpDir, finalDir);
  } catch (err) {
    if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}

let cache; // set in main(): { root, tmp }
function makeTmpDir(name) {
  fs.mkdirSync(cache.tmp, { recursive: true });
  return fs.mkdtempSync(path.join(cache.tmp, `${name}-${process.pid}-`));
}

/** Runs a command with output appended to logFile; throws InstallError with the log's tail. */
function run(cmd, args, { cwd, env, logFile, what, compileFailure = false }) {
  const fd = fs.openSync(logFile, 'a');
  fs.writeSync(fd, `\n$ ${cmd} ${args.join(' ')}\n`);
  const res = spawnSync(cmd, args, { cwd, env: env ?? process.env, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  if (res.error || res.status !== 0) {
    const why = res.error ? res.error.message : res.signal ? `signal ${res.signal}` : `exit code ${res.status}`;
    throw new InstallError(`${what} failed (${why})`, { log: logFile, compileFailure });
  }
}

function capture(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return { ok: !res.error && res.status === 0, stdout: res.stdout ?? '', stderr: res.stderr ?? '' };
}

/** Keeps a failed step's log in the cache (temp folders are cleaned) and returns its path. */
function keepLog(log) {
  if (!log || !fs.existsSync(log)) return undefined;
  const dir = path.join(cache.root, 'logs');
  fs.mkdirSync(dir, { recursive: true });
  const dest = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${path.basename(log)}`);
  fs.copyFileSync(log, dest);
  return dest;
}

function printLogTail(log, lines = 25) {
  try {
    const tail = fs.readFileSync(log, 'utf8').trimEnd().split('\n').slice(-lines);
    process.stderr.write(tail.map((l) => `  | ${l}`).join('\n') + '\n');
  } catch {
    /* no log */
  }
}

// ---------------------------------------------------------------------------------------------
// lock: one install at a time per cache folder

let lockHeld = false;
function acquireLock(lockFile) {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  for (;;) {
    try {
      const fd = fs.openSync(lockFile, 'wx');
      fs.writeSync(fd, JSON.stringify({ pid: process.pid, host: os.hostname(), at: new Date().toISOString() }));
      fs.closeSync(fd);
      lockHeld = true;
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    const holder = readJson(lockFile);
    let stat;
    try {
      stat = fs.statSync(lockFile);
    } catch {
      continue; // released meanwhile
    }
    const alive = (pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch (e) {
        return e.code === 'EPERM';
      }
    };
    const stale =
      Date.now() - stat.mtimeMs > LOCK_STALE_MS ||
      (holder?.host === os.hostname() && Number.isInteger(holder?.pid) && !alive(holder.pid)) ||
      (holder === undefined && Date.now() - stat.mtimeMs > 10_000); // unreadable, not being written
    if (stale) {
      say(`removing stale lock ${lockFile}`);
      fs.rmSync(lockFile, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new InstallError(`timed out waiting for ${lockFile} (held by pid ${holder?.pid}); remove it if no install is running`);
    }
    if (!announced) {
      say(`another install (pid ${holder?.pid ?? '?'}) is building; waiting for it`);
      announced = true;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
  }
}

function releaseLock(lockFile) {
  if (!lockHeld) return;
  lockHeld = false;
  if (readJson(lockFile)?.pid !== process.pid) return;
  fs.rmSync(cache.tmp, { recursive: true, force: true }); // failed steps' logs were kept in logs/
  fs.rmSync(lockFile, { force: true });
}

// ---------------------------------------------------------------------------------------------
// apt packages

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
let aptUpdated = false;

function missingPackages(pkgs) {
  const res = capture('dpkg-query', ['-W', '-f=${Package} ${db:Status-Abbrev}\n', ...pkgs]);
  if (res.stdout === '' && res.stderr === '') {
    throw new InstallError('dpkg-query not found: this install step supports Debian-based systems only', { fatal: true });
  }
  const installed = new Set(
    res.stdout
      .split('\n')
      .filter((l) => /^\S+ ii/.test(l))
      .map((l) => l.split(' ')[0].split(':')[0]),
  );
  return pkgs.filter((p) => !installed.has(p));
}

function aptEnv() {
  return { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
}

function aptUpdate(logFile, force = false) {
  if (aptUpdated && !force) return;
  say('apt-get update');
  run('apt-get', ['update'], { env: aptEnv(), logFile, what: 'apt-get update' });
  aptUpdated = true;
}

function ensurePackages(pkgs, logFile, forWhat, extraHint = '') {
  const missing = missingPackages(pkgs);
  if (missing.length === 0) return;
  const cmd = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (!isRoot) {
    throw new InstallError(
      `${forWhat} needs these Debian packages: ${missing.join(' ')}\n${extraHint}` +
        `  run as root:  sudo apt-get update && sudo ${cmd}\n` +
        `  (or, for the slower generic build: PIRAMID_NATIVE_ROUTE=A node scripts/install-native.mjs)`,
      { fatal: true },
    );
  }
  aptUpdate(logFile);
  say(`installing ${missing.join(' ')}`);
  run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env: aptEnv(), logFile, what: `apt-get install ${missing.join(' ')}` });
}

function hasFaissSource() {
  const res = capture('apt-cache', ['showsrc', '--only-source', 'faiss']);
  return res.ok && /^Package: faiss$/m.test(res.stdout);
}

/** A deb-src stanza for the release's main archive, modelled on the existing deb entries. */
function debSrcStanza() {
  const osRelease = fs.existsSync('/etc/os-release') ? fs.readFileSync('/etc/os-release', 'utf8') : '';
  const codename = osRelease.match(/^VERSION_CODENAME="?([^"\n]+)"?$/m)?.[1] ?? 'bookworm';
  let uri = 'http://deb.debian.org/debian';
  let signedBy = '/usr/share/keyrings/debian-archive-keyring.gpg';
  const deb822 = '/etc/apt/sources.list.d/debian.sources';
  if (fs.existsSync(deb822)) {
    for (const stanza of fs.readFileSync(deb822, 'utf8').split(/\n\s*\n/)) {
      const field = (name) => stanza.match(new RegExp(`^${name}:\\s*(.+)$`, 'mi'))?.[1].trim();
      const suites = (field('Suites') ?? '').split(/\s+/);
      if ((field('Types') ?? '').split(/\s+/).includes('deb') && suites.includes(codename)) {
        uri = (field('URIs') ?? uri).split(/\s+/)[0];
        signedBy = field('Signed-By') ?? signedBy;
        break;
      }
    }
  } else if (fs.existsSync('/etc/apt/sources.list')) {
    const m = fs.readFileSync('/etc/apt/sources.list', 'utf8').match(new RegExp(`^deb\\s+(?:\\[[^\\]]*\\]\\s+)?(\\S+)\\s+${codename}\\s`, 'm'));
    if (m) uri = m[1];
  }
  return `Types: deb-src\nURIs: ${uri}\nSuites: ${codename}\nComponents: main\nSigned-By: ${signedBy}\n`;
}

const DEB_SRC_FILE = '/etc/apt/sources.list.d/piramid-deb-src.sources';
const debSrcHint = () =>
  `  and a deb-src entry for Debian's FAISS source package:\n` +
  `  printf '${debSrcStanza().replace(/\n/g, '\\n')}' | sudo tee ${DEB_SRC_FILE}\n`;

function ensureDebSrc(logFile) {
  if (hasFaissSource()) return;
  const file = DEB_SRC_FILE;
  const stanza = debSrcStanza();
  if (!isRoot) {
    throw new InstallError(
      `route B needs Debian's FAISS source package; as root, add a deb-src entry and update:\n` +
        `  printf '${stanza.replace(/\n/g, '\\n')}' | sudo tee ${file} && sudo apt-get update\n` +
        `  (or, for the slower generic build: PIRAMID_NATIVE_ROUTE=A node scripts/install-native.mjs)`,
      { fatal: true },
    );
  }
  if (!fs.existsSync(file)) {
    say(`adding deb-src entry ${file}`);
    fs.writeFileSync(file, stanza);
  }
  aptUpdate(logFile, true);
  if (!hasFaissSource()) throw new InstallError(`apt-cache showsrc faiss finds nothing even with ${file}`, { log: logFile });
}

// ---------------------------------------------------------------------------------------------
// sources: faiss-node tarball (npm) and FAISS (Debian source package)

function npmCommand() {
  const execpath = process.env.npm_execpath;
  if (execpath && /npm-cli\.js$/.test(execpath) && fs.existsSync(execpath)) return [process.execPath, [execpath]];
  return ['npm', []];
}

/** Returns src/faiss.cc of faiss-node from the (cached) npm tarball. */
function faissNodeSource() {
  const tgz = path.join(cache.root, 'tarballs', `faiss-node-${FAISS_NODE_VERSION}.tgz`);
  const integrityOk = (file) => `sha512-${crypto.createHash('sha512').update(fs.readFileSync(file)).digest('base64')}` === FAISS_NODE_INTEGRITY;
  if (!fs.existsSync(tgz) || !integrityOk(tgz)) {
    say(`fetching faiss-node@${FAISS_NODE_VERSION} tarball (npm pack)`);
    const tmp = makeTmpDir('tarball');
    const [cmd, pre] = npmCommand();
    run(cmd, [...pre, 'pack', `faiss-node@${FAISS_NODE_VERSION}`, '--pack-destination', tmp, '--ignore-scripts'], {
      cwd: tmp,
      logFile: path.join(tmp, 'npm-pack.log'),
      what: `npm pack faiss-node@${FAISS_NODE_VERSION}`,
    });
    const got = path.join(tmp, `faiss-node-${FAISS_NODE_VERSION}.tgz`);
    if (!fs.existsSync(got) || !integrityOk(got)) throw new InstallError(`faiss-node tarball missing or failing its integrity check (${FAISS_NODE_INTEGRITY})`);
    fs.mkdirSync(path.dirname(tgz), { recursive: true });
    fs.renameSync(got, tgz);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const res = spawnSync('tar', ['-xzOf', tgz, 'package/src/faiss.cc'], { maxBuffer: 64 << 20 });
  if (res.status !== 0) throw new InstallError(`cannot extract src/faiss.cc from ${tgz}: ${String(res.stderr)}`);
  return res.stdout.toString('utf8');
}

/** Applies a unified diff to one file's text; every context and removed line must match. */
function applyPatch(text, patch) {
  const src = text.split('\n');
  const out = [];
  let pos = 0; // next unread line of src
  const lines = patch.split('\n');
  let i = lines.findIndex((l) => l.startsWith('@@'));
  if (i < 0) throw new InstallError('native/faiss-node.patch has no hunks', { fatal: true });
  while (i < lines.length && lines[i].startsWith('@@')) {
    const m = lines[i].match(/^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@/);
    if (!m) throw new InstallError(`bad hunk header in native/faiss-node.patch: ${lines[i]}`, { fatal: true });
    const start = Math.max(0, Number(m[1]) - 1);
    i++;
    const hunkOld = [];
    const hunkNew = [];
    for (; i < lines.length && !lines[i].startsWith('@@'); i++) {
      const l = lines[i];
      if (l.startsWith('\\')) continue; // "\ No newline at end of file"
      if (l === '' && i === lines.length - 1) break;
      const body = l.slice(1);
      if (l[0] === ' ' || l === '') {
        hunkOld.push(body);
        hunkNew.push(body);
      } else if (l[0] === '-') hunkOld.push(body);
      else if (l[0] === '+') hunkNew.push(body);
      else throw new InstallError(`bad line in native/faiss-node.patch: ${l}`, { fatal: true });
    }
    const matches = hunkOld.every((l, k) => src[start + k] === l);
    if (!matches || start < pos) throw new InstallError(`native/faiss-node.patch does not apply at line ${start + 1} of src/faiss.cc`, { fatal: true });
    out.push(...src.slice(pos, start), ...hunkNew);
    pos = start + hunkOld.length;
  }
  out.push(...src.slice(pos));
  return out.join('\n');
}

function cachedFaissSources() {
  const base = path.join(cache.root, 'faiss-src');
  return listDirs(base).filter((d) => fs.existsSync(path.join(base, d, 'faiss', 'Index.h')));
}

/** Newest FAISS source tree in the cache, else one fetched with apt-get source. */
function faissSourceTree(logFile) {
  const cached = cachedFaissSources();
  if (cached.length > 0) return { version: newest(cached), dir: path.join(cache.root, 'faiss-src', newest(cached)) };

  ensurePackages(['dpkg-dev'], logFile, 'route B (apt-get source)');
  ensureDebSrc(logFile);
  say("fetching Debian's FAISS source (apt-get source faiss)");
  const tmp = makeTmpDir('faiss-src');
  fs.chmodSync(tmp, 0o755);
  run('apt-get', ['source', '--only-source', 'faiss'], { cwd: tmp, logFile, what: 'apt-get source faiss' });
  const dsc = fs.readdirSync(tmp).find((f) => /^faiss_.*\.dsc$/.test(f));
  const tree = fs.readdirSync(tmp).find((f) => f.startsWith('faiss-') && fs.statSync(path.join(tmp, f)).isDirectory());
  if (!dsc || !tree) throw new InstallError(`apt-get source faiss left no .dsc or source tree in ${tmp}`, { log: logFile });
  const version = dsc.slice('faiss_'.length, -'.dsc'.length).replace(/^\d+:/, '');
  const dir = path.join(cache.root, 'faiss-src', version);
  commitDir(path.join(tmp, tree), dir);
  fs.rmSync(tmp, { recursive: true, force: true });
  return { version, dir };
}

function listDirs(dir) {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return [];
  }
}

const newest = (versions) => [...versions].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1);

// ---------------------------------------------------------------------------------------------
// routes: what to link against

const ROUTE_B_PACKAGES = ['g++', 'make', 'cmake', 'python3', 'libblas-dev', 'liblapack-dev', 'libopenblas0-openmp', 'libgomp1'];
const ROUTE_A_PACKAGES = ['g++', 'make', 'python3', 'libfaiss-dev'];

/** Finds a cached FAISS library for the opt level (no apt calls); undefined when none. */
function cachedFaissLib(optLevel) {
  const base = path.join(cache.root, 'faiss-lib');
  const entries = listDirs(base)
    .filter((d) => d.endsWith(`-${optLevel}`))
    .map((d) => ({ d, info: readJson(path.join(base, d, 'lib-info.json')) }))
    .filter(({ d, info }) => info?.recipe === RECIPE_VERSION && fs.existsSync(path.join(base, d, info.lib)) && fs.existsSync(path.join(cache.root, info.includeDir)));
  if (entries.length === 0) return undefined;
  const best = entries.find((e) => e.info.faissVersion === newest(entries.map((x) => x.info.faissVersion)));
  return { ...best.info, libPath: path.join(base, best.d, best.info.lib), includePath: path.join(cache.root, best.info.includeDir) };
}

function buildFaissLib(optLevel, jobs) {
  const tmp = makeTmpDir('faiss-lib');
  const logFile = path.join(tmp, 'faiss-build.log');
  const needSource = cachedFaissSources().length === 0;
  const pkgs = needSource ? [...ROUTE_B_PACKAGES, 'dpkg-dev'] : ROUTE_B_PACKAGES;
  ensurePackages(pkgs, logFile, 'route B', needSource && !hasFaissSource() ? debSrcHint() : '');
  const src = faissSourceTree(logFile);
  const target = optLevel === 'generic' ? 'faiss' : `faiss_${optLevel}`;
  const t0 = Date.now();
  say(`building FAISS ${src.version} (${target}, -j${jobs}); about a minute on 2 cores`);
  const build = path.join(tmp, 'build');
  run(
    'cmake',
    [
      '-S', src.dir, '-B', build,
      `-DFAISS_OPT_LEVEL=${optLevel}`,
      '-DFAISS_ENABLE_GPU=OFF', '-DFAISS_ENABLE_PYTHON=OFF', '-DBUILD_TESTING=OFF',
      '-DCMAKE_BUILD_TYPE=Release', '-DCMAKE_POSITION_INDEPENDENT_CODE=ON',
    ],
    { logFile, what: 'cmake configure of FAISS', compileFailure: true },
  );
  run('cmake', ['--build', build, '--target', target, '--parallel', String(jobs)], { logFile, what: `build of FAISS ${target}`, compileFailure: true });
  const libName = `lib${target}.a`;
  const entry = path.join(tmp, 'entry');
  fs.mkdirSync(entry);
  fs.renameSync(path.join(build, 'faiss', libName), path.join(entry, libName));
  const info = {
    recipe: RECIPE_VERSION,
    faissVersion: src.version,
    optLevel,
    lib: libName,
    includeDir: path.relative(cache.root, src.dir),
    builtAt: new Date().toISOString(),
    buildSeconds: Math.round((Date.now() - t0) / 100) / 10,
  };
  fs.writeFileSync(path.join(entry, 'lib-info.json'), JSON.stringify(info, null, 2) + '\n');
  commitDir(entry, path.join(cache.root, 'faiss-lib', `${src.version}-${optLevel}`));
  fs.rmSync(tmp, { recursive: true, force: true });
  say(`FAISS built in ${secs(Date.now() - t0)}`);
  return cachedFaissLib(optLevel);
}

/** Everything the addon build needs for route B, building the FAISS library when not cached. */
function routeB(optLevel, jobs) {
  const lib = cachedFaissLib(optLevel) ?? buildFaissLib(optLevel, jobs);
  const runtime = missingPackages(['libopenblas0-openmp', 'libgomp1']);
  if (runtime.length > 0) ensurePackages(ROUTE_B_PACKAGES, path.join(makeTmpDir('apt'), 'apt.log'), 'route B');
  const openblas = path.join(OPENBLAS_OPENMP_DIR, 'libopenblas.so.0');
  if (!fs.existsSync(openblas)) throw new InstallError(`${openblas} not found (package libopenblas0-openmp)`);
  const simd = optLevel === 'avx2' ? ['-mavx2', '-mfma', '-mf16c', '-mpopcnt'] : [];
  return {
    route: 'B',
    faissVersion: lib.faissVersion,
    optLevel,
    blas: `openblas-openmp (${openblas})`,
    libIdentity: `faiss-src-${lib.faissVersion}-${optLevel}+openblas-openmp`,
    vars: {
      piramid_include_dirs: [lib.includePath],
      piramid_cflags: simd,
      piramid_ldflags: [`-Wl,-rpath,${OPENBLAS_OPENMP_DIR}`],
      piramid_libraries: [lib.libPath, openblas, '-lgomp'],
    },
  };
}

function routeA() {
  const logFile = path.join(makeTmpDir('apt'), 'apt.log');
  ensurePackages(ROUTE_A_PACKAGES, logFile, 'route A');
  const version = capture('dpkg-query', ['-W', '-f=${Version}', 'libfaiss-dev']).stdout.trim();
  const libblas = `/usr/lib/${multiarch}/libblas.so.3`;
  let blas = 'system libblas/liblapack';
  try {
    blas = `system libblas/liblapack (${fs.realpathSync(libblas)})`;
  } catch {
    /* keep the generic name */
  }
  return {
    route: 'A',
    faissVersion: version,
    optLevel: 'generic',
    blas,
    libIdentity: `libfaiss-dev-${version}`,
    vars: {
      piramid_include_dirs: [],
      piramid_cflags: [],
      piramid_ldflags: [],
      piramid_libraries: ['-Wl,-Bstatic', '-lfaiss', '-Wl,-Bdynamic', '-lblas', '-llapack', '-lgomp'],
    },
  };
}

// ---------------------------------------------------------------------------------------------
// the addon

function projectRequire() {
  return createRequire(path.join(projectRoot, 'package.json'));
}

function recipeInputs() {
  const read = (f) => fs.readFileSync(path.join(nativeDir, f), 'utf8');
  let napiVersion = 'unknown';
  try {
    napiVersion = projectRequire()('node-addon-api/package.json').version;
  } catch {
    /* reported when building */
  }
  return {
    patch: read('faiss-node.patch'),
    gyp: read('binding.gyp'),
    compat: read('compat.h'),
    nodeAbi: process.versions.modules,
    platform: `${process.platform}-${process.arch}`,
    faissNode: FAISS_NODE_VERSION,
    nodeAddonApi: napiVersion,
    recipe: RECIPE_VERSION,
  };
}

function cacheKey(inputs, route, libIdentity) {
  return sha256(JSON.stringify({ ...inputs, route, libIdentity })).slice(0, 24);
}

/** Loads the addon in a child process and runs one search; returns an error text or undefined. */
function probeAddon(file) {
  const code = `
    const f = require(${JSON.stringify(file)});
    const ix = f.Index.fromFactory(4, 'Flat', 1);
    ix.add(new Float32Array([0,0,0,0, 1,1,1,1]));
    const r = ix.search(new Float32Array([1,1,1,0.9]), 1);
    if (!(r.labels instanceof Float64Array) || r.labels[0] !== 1 || typeof f.setOmpThreads !== 'function') process.exit(3);`;
  const res = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 60_000 });
  if (res.status === 0) return undefined;
  return (res.stderr || res.stdout || `exit ${res.status} ${res.signal ?? ''}`).trim().split('\n').slice(0, 6).join('\n');
}

function buildAddon(plan, key, inputs, jobs) {
  const req = projectRequire();
  let nodeGyp;
  try {
    nodeGyp = req.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    nodeGyp = process.env.npm_config_node_gyp;
    if (!nodeGyp || !fs.existsSync(nodeGyp)) throw new InstallError('node-gyp not found in node_modules (it is a dependency: run npm install)', { fatal: true });
  }
  let napiInclude;
  try {
    napiInclude = path.dirname(req.resolve('node-addon-api/package.json')); // napi.h lives there
  } catch {
    throw new InstallError('node-addon-api not found in node_modules (it is a dependency: run npm install)', { fatal: true });
  }

  const source = applyPatch(faissNodeSource(), inputs.patch);
  const tmp = makeTmpDir('addon');
  const logFile = path.join(tmp, 'node-gyp.log');
  ensurePackages(['g++', 'make', 'python3'], logFile, 'compiling the addon');
  fs.mkdirSync(path.join(tmp, 'src'));
  fs.writeFileSync(path.join(tmp, 'src', 'faiss.cc'), source);
  fs.writeFileSync(path.join(tmp, 'binding.gyp'), inputs.gyp);
  fs.writeFileSync(path.join(tmp, 'compat.h'), inputs.compat);
  const vars = { ...plan.vars, piramid_include_dirs: [...plan.vars.piramid_include_dirs, napiInclude] };
  fs.writeFileSync(path.join(tmp, 'piramid-vars.gypi'), JSON.stringify({ variables: vars }, null, 2) + '\n');

  // node-gyp cannot download headers offline: point it at the running node's own headers
  const args = [nodeGyp, 'rebuild', '--release', `--jobs=${jobs}`];
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_version.h'))) args.push(`--nodedir=${prefix}`);
  else if (fs.existsSync('/usr/include/node/node_version.h')) args.push('--nodedir=/usr');

  const t0 = Date.now();
  say(`compiling faiss-node ${FAISS_NODE_VERSION} (patched) for route ${plan.route}`);
  run(process.execPath, args, { cwd: tmp, logFile, what: 'node-gyp build of faiss-node', compileFailure: plan.route === 'B' });
  const built = path.join(tmp, 'build', 'Release', 'faiss-node.node');
  const problem = probeAddon(built);
  if (problem) throw new InstallError(`the built addon does not load or answer a search:\n${problem}`, { log: logFile, compileFailure: plan.route === 'B' });

  const entry = path.join(tmp, 'entry');
  fs.mkdirSync(entry);
  fs.renameSync(built, path.join(entry, 'faiss-node.node'));
  const info = {
    route: plan.route,
    faissVersion: plan.faissVersion,
    optLevel: plan.optLevel,
    blas: plan.blas,
    builtAt: new Date().toISOString(),
    cacheKey: key,
    libIdentity: plan.libIdentity,
    faissNodeVersion: FAISS_NODE_VERSION,
    nodeAbi: process.versions.modules,
  };
  fs.writeFileSync(path.join(entry, 'build-info.json'), JSON.stringify(info, null, 2) + '\n');
  commitDir(entry, path.join(cache.root, 'addon', key));
  fs.rmSync(tmp, { recursive: true, force: true });
  say(`addon compiled in ${secs(Date.now() - t0)}`);
}

function installAddon(key, outDir) {
  const entry = path.join(cache.root, 'addon', key);
  fs.mkdirSync(outDir, { recursive: true });
  const ignore = path.join(outDir, '.gitignore');
  if (!fs.existsSync(ignore)) fs.writeFileSync(ignore, '# built by scripts/install-native.mjs\n*\n');
  copyFileAtomic(path.join(entry, 'faiss-node.node'), path.join(outDir, 'faiss-node.node'));
  copyFileAtomic(path.join(entry, 'build-info.json'), path.join(outDir, 'build-info.json')); // last: marks completion
  return readJson(path.join(outDir, 'build-info.json'));
}

// ---------------------------------------------------------------------------------------------
// main

/** The route to build when none is forced: B on AVX2 CPUs unless B failed to compile here before. */
function autoRoute(optLevel) {
  const marker = failureMarker(optLevel);
  if (!cpuHasAvx2()) return { route: 'A', why: 'CPU without AVX2' };
  if (fs.existsSync(marker)) return { route: 'A', why: `route B failed before (${marker}; delete it or set PIRAMID_NATIVE_ROUTE=B to retry)` };
  return { route: 'B', why: 'AVX2 detected' };
}

const failureMarker = (optLevel) => path.join(cache.root, 'faiss-lib', `route-B-${optLevel}.failed`);

/** True when outDir already holds the addon this recipe would build for route. */
function upToDate(outDir, route, inputs) {
  const info = readJson(path.join(outDir, 'build-info.json'));
  if (!info || info.route !== route || typeof info.libIdentity !== 'string') return false;
  if (info.cacheKey !== cacheKey(inputs, route, info.libIdentity)) return false;
  const addon = path.join(outDir, 'faiss-node.node');
  if (!fs.existsSync(addon)) return false;
  const problem = probeAddon(addon);
  if (problem) say(`installed addon does not load, rebuilding:\n${problem}`);
  return problem === undefined;
}

function buildRoute(route, optLevel, inputs, opts) {
  const plan = route === 'B' ? routeB(optLevel, opts.jobs) : routeA();
  const key = cacheKey(inputs, route, plan.libIdentity);
  const entry = path.join(cache.root, 'addon', key);
  const cached = fs.existsSync(path.join(entry, 'build-info.json')) && fs.existsSync(path.join(entry, 'faiss-node.node'));
  if (cached && !opts.force) {
    say(`using cached addon ${key}`);
    const problem = probeAddon(path.join(entry, 'faiss-node.node'));
    if (problem === undefined) return installAddon(key, opts.outDir);
    say(`cached addon does not load here, rebuilding it:\n${problem}`);
    fs.rmSync(entry, { recursive: true, force: true });
  }
  buildAddon(plan, key, inputs, opts.jobs);
  return installAddon(key, opts.outDir);
}

function main() {
  if (process.env.PIRAMID_SKIP_NATIVE === '1') {
    say('PIRAMID_SKIP_NATIVE=1: skipping the native build');
    return 0;
  }
  if (process.platform !== 'linux') {
    say(`native FAISS build is supported on Linux (Debian) only, not ${process.platform}; skipped. FAISS indexes will be unavailable.`);
    return 0;
  }
  const opts = parseArgs(process.argv.slice(2));
  const root = cacheRoot();
  cache = { root, tmp: path.join(root, 'tmp') };
  const optLevel = cpuHasAvx2() ? 'avx2' : 'generic';
  const inputs = recipeInputs();
  const chosen = opts.route ? { route: opts.route, why: 'forced' } : autoRoute(optLevel);
  const rel = path.relative(projectRoot, opts.outDir) || '.';

  if (!opts.force && upToDate(opts.outDir, chosen.route, inputs)) {
    const note = !opts.route && chosen.route === 'A' ? `; ${chosen.why}` : '';
    say(`up to date (route ${chosen.route}, ${rel}/faiss-node.node${note})`);
    return 0;
  }

  try {
    fs.mkdirSync(root, { recursive: true });
    fs.accessSync(root, fs.constants.W_OK);
  } catch (err) {
    throw new InstallError(`cannot use the cache folder ${root} (${err.code ?? err.message}); set PIRAMID_CACHE_DIR to a writable folder`, { fatal: true });
  }
  const lockFile = path.join(root, 'install.lock');
  acquireLock(lockFile);
  process.on('exit', () => releaseLock(lockFile));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(128 + os.constants.signals[sig]));
  fs.rmSync(cache.tmp, { recursive: true, force: true }); // leftovers of interrupted builds (we hold the lock)

  if (!opts.force && upToDate(opts.outDir, chosen.route, inputs)) {
    say(`up to date (route ${chosen.route}, built by a concurrent install)`);
    return 0;
  }

  say(`route ${chosen.route} (${chosen.why}); cache ${root}`);
  let info;
  try {
    info = buildRoute(chosen.route, optLevel, inputs, opts);
    if (chosen.route === 'B') fs.rmSync(failureMarker(optLevel), { force: true });
  } catch (err) {
    if (!(err instanceof InstallError) || chosen.route === 'A' || opts.route === 'B' || err.fatal) throw err;
    const log = keepLog(err.log);
    say(`WARNING: route B failed: ${err.message}${log ? ` (log: ${log})` : ''}`);
    if (log) printLogTail(log, 15);
    if (err.compileFailure) {
      fs.mkdirSync(path.dirname(failureMarker(optLevel)), { recursive: true });
      fs.writeFileSync(failureMarker(optLevel), JSON.stringify({ at: new Date().toISOString(), error: err.message, log }, null, 2) + '\n');
    }
    say('WARNING: falling back to route A (Debian libfaiss-dev): correct, but several times slower');
    info = buildRoute('A', 'generic', inputs, opts);
  }
  say(`installed ${rel}/faiss-node.node (route ${info.route}, FAISS ${info.faissVersion} ${info.optLevel}, ${info.blas}) in ${secs(Date.now() - startedAt)}`);
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  if (err instanceof InstallError) {
    const log = cache ? keepLog(err.log) : undefined;
    say(`FAILED: ${err.message}`);
    if (log) {
      printLogTail(log);
      say(`full log: ${log}`);
    }
  } else {
    say(`FAILED: ${err?.stack ?? err}`);
  }
  say('the FAISS binding is not installed; fix the above and run: node scripts/install-native.mjs');
  process.exitCode = 1;
}
