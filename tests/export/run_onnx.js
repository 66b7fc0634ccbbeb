// Runs an ONNX graph with ONNX Runtime (npm's onnxruntime-node) on one float32 .npy input and
// writes its output as a float32 .npy: node run_onnx.js MODEL.onnx INPUT.npy OUTPUT.npy
// (input name 'input', output name 'logits', as kiln exports them).
const ort = require('onnxruntime-node');
const fs = require('fs');

function readNpy(path) {
  const b = fs.readFileSync(path);
  if (b.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(path + ': not .npy');
  const len = b.readUInt16LE(8);
  const header = b.toString('latin1', 10, 10 + len);
  if (!header.includes("'<f4'")) throw new Error(path + ': not float32');
  const shape = header.match(/\(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const data = new Float32Array(b.buffer.slice(b.byteOffset + 10 + len, b.byteOffset + b.length));
  return {shape, data};
}

function writeNpy(path, shape, data) {
  let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape.join(', ') +
      (shape.length === 1 ? ',' : '') + '), }';
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93]).copy(head, 0);
  head.write('NUMPY', 1, 'latin1');
  head[6] = 1, head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  fs.writeFileSync(path, Buffer.concat([head, Buffer.from(header, 'latin1'),
                                        Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

(async () => {
  const [model, input, output] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model);  // default optimizations, as a user runs it
  const x = readNpy(input);
  const result = await session.run({input: new ort.Tensor('float32', x.data, x.shape)});
  writeNpy(output, result.logits.dims, result.logits.data);
})().catch((e) => {
  console.error('run_onnx: ' + e.message);
  process.exit(1);
});
