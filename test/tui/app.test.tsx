import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { render } from 'ink-testing-library';
import { PiramidClient } from '../../src/client/http-client.js';
import { RemoteBackend } from '../../src/client/remote-backend.js';
import { App } from '../../src/tui/app.js';
import { startServer, type TestServer } from '../server/helpers.js';
import { KEY, smallDatabase, tick, waitFor, type TestDatabase } from './helpers.js';

const size = { width: 80, height: 24 };

describe('App (browse)', () => {
  let data: TestDatabase;
  after(() => data.close());
  before(async () => {
    data = await smallDatabase();
  });

  it('goes collections › collection › record and back, keeping the selection, with the title and status lines', async () => {
    const app = render(<App backend={data.backend} source="/data" size={size} debounceMs={20} />);
    await waitFor(() => assert.match(app.lastFrame() ?? '', /› book/));
    let lines = (app.lastFrame() ?? '').split('\n');
    assert.equal(lines.length, 24);
    assert.match(lines[0] ?? '', /^ piramid browse · \/data\s*$/);
    assert.match(lines[23] ?? '', /^ ↑↓ move {2}⏎ open {2}\/ filter {2}s search\s+\? help {2}q quit$/);
    app.stdin.write('j');
    await tick();
    app.stdin.write(KEY.enter);
    await waitFor(() => assert.match(app.lastFrame() ?? '', /records 1–19 of 60/));
    lines = (app.lastFrame() ?? '').split('\n');
    assert.match(lines[0] ?? '', /piramid browse · \/data › notes/);
    assert.match(lines[23] ?? '', /PgUp\/PgDn page/);
    app.stdin.write('j');
    await tick();
    app.stdin.write(KEY.enter);
    await waitFor(() => assert.match(app.lastFrame() ?? '', /^ note-01$/m));
    assert.match(app.lastFrame() ?? '', /piramid browse · \/data › notes › note-01/);
    app.stdin.write('q');
    // Back on the page, the same row selected.
    await waitFor(() => assert.match(app.lastFrame() ?? '', /^› note-01 /m));
    app.stdin.write(KEY.escape);
    await waitFor(() => assert.match(app.lastFrame() ?? '', /^› notes /m));

    // ? opens the help over any view; ? (or q, Esc) closes it.
    app.stdin.write('?');
    await waitFor(() => assert.match(app.lastFrame() ?? '', /Keys of piramid browse/));
    const help = app.lastFrame() ?? '';
    for (const title of ['Collections', 'Collection', 'Record', 'Search', 'Everywhere']) assert.match(help, new RegExp(`\\b${title}\\b`));
    assert.match(help, /n \/ p\s+next \/ previous chunk/);
    for (const line of help.split('\n')) assert.ok(line.length <= 80, line);
    app.stdin.write('?');
    await waitFor(() => assert.match(app.lastFrame() ?? '', /^› notes /m));

    // s on a collection opens its search panel.
    app.stdin.write('s');
    await waitFor(() => assert.match(app.lastFrame() ?? '', /› notes › search/));
    app.stdin.write('tomatoes');
    await waitFor(() => assert.match(app.lastFrame() ?? '', /^ {4}1 █+\s+\d\.\d{4} note-\d\d\s+Note \d+: growing tomatoes/m));
    app.stdin.write(KEY.escape);
    await waitFor(() => assert.match(app.lastFrame() ?? '', /2 of 3|3 collections/));
    app.unmount();
  });

  it('opens a collection given on the command line, and says when the terminal is too small', async () => {
    const app = render(<App backend={data.backend} source="/data" size={size} initialCollection="vec" />);
    await waitFor(() => assert.match(app.lastFrame() ?? '', /› color-blue\s+Blue is a color\.\s+category, rank, …/));
    app.unmount();
    const small = render(<App backend={data.backend} source="/data" size={{ width: 30, height: 8 }} />);
    assert.match(small.lastFrame() ?? '', /Terminal too small \(30×8\)/);
    small.unmount();
  });
});

describe('App through a piramid server (RemoteBackend)', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
    await server.call('PUT', '/v1/collections/remote', { embedder: 'none', dimension: 2 });
    await server.call('PUT', '/v1/collections/remote/documents', { documents: [{ id: 'a', text: 'first', vector: [1, 0], metadata: { k: 1 } }, { id: 'b', text: 'second', vector: [0, 1] }] });
  });
  after(() => server.close());

  it('shows the same views from the server', async () => {
    const backend = new RemoteBackend(new PiramidClient(server.url), { kind: 'explicit' });
    const app = render(<App backend={backend} source={server.url} size={size} debounceMs={20} />);
    await waitFor(() => assert.match(app.lastFrame() ?? '', /› remote\s+2\s+2 cosine \w+\s+none/));
    app.stdin.write(KEY.enter);
    await waitFor(() => assert.match(app.lastFrame() ?? '', /› a\s+first\s+k/));
    app.stdin.write(KEY.enter);
    await waitFor(() => assert.match(app.lastFrame() ?? '', /2 dims · norm 1\.0000/));
    assert.match(app.lastFrame() ?? '', /└─ k: 1/);
    app.stdin.write(KEY.escape);
    await tick();
    app.stdin.write('s');
    await tick();
    app.stdin.write('[0, 1]');
    await waitFor(() => assert.match(app.lastFrame() ?? '', /^ {4}1 █+\s+1\.0000 b\s+second/m));
    app.unmount();
  });
});
