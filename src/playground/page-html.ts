/** The playground's index.html: the layout the page script (page/main.ts) fills in. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>alignkit playground</title>
<link rel="icon" href="data:,">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem 2rem; color: #1d1d1f; }
  h1 { font-size: 1.3rem; margin: 0 0 .2rem; }
  fieldset { border: 1px solid #ccc; border-radius: 6px; margin: .5rem 0; }
  label { margin-right: 1rem; white-space: nowrap; }
  input[type=number], input[type=text] { width: 4.5rem; }
  textarea { width: 100%; height: 3.5rem; }
  #messages { list-style: none; padding: 0; }
  .message.error { color: #a40000; } .message.info { color: #215d00; }
  #results { display: grid; grid-template-columns: repeat(auto-fill, minmax(18rem, 1fr)); gap: .8rem; }
  .pane { border: 1px solid #bbb; border-radius: 6px; padding: .5rem .8rem; }
  .pane h3 { margin: 0; } .pane .text { white-space: pre-wrap; min-height: 3rem; font-family: Georgia, serif; }
  .pane dl { display: grid; grid-template-columns: auto 1fr; gap: 0 .6rem; margin: 0; }
  .pane dd { margin: 0; font-variant-numeric: tabular-nums; }
  .status { color: #555; font-size: .9em; }
</style>
</head>
<body data-state="loading">
<h1>alignkit playground</h1>
<p>The steering methods in this tab, on onnxruntime-web: <span id="runtime">starting…</span>. Nothing is sent anywhere.</p>
<ul id="messages"></ul>
<fieldset><legend>Models</legend>
  <ul id="models"></ul>
  <label>Load an HF model directory <input id="pick-directory" type="file" webkitdirectory multiple></label>
  <label>or a GGUF file <input id="pick-gguf" type="file" accept=".gguf"></label>
  <div>
    <label>large <select id="role-large"></select></label>
    <label>tuned <select id="role-tuned"></select></label>
    <label>untuned <select id="role-untuned"></select></label>
    <label>value <select id="role-value"></select></label>
    <label>ED base <select id="role-base"></select></label>
    <label>ED aligned <select id="role-aligned"></select></label>
  </div>
</fieldset>
<fieldset><legend>Prompt</legend>
  <select id="prompt-pick"><option value="">pick a prompt…</option></select>
  <textarea id="prompt"></textarea>
</fieldset>
<fieldset><legend>Methods</legend><div id="methods"></div>
  <div>
    <label>W <input id="beams" type="number" min="1" value="2"></label>
    <label>K <input id="successors" type="number" min="1" value="2"></label>
    <label>L <input id="chunk-length" type="text" value="4"></label>
    <label>β <input id="beta" type="number" step="0.1" value="1"></label>
    <label>N <input id="n" type="number" min="1" placeholder="W·K"></label>
    <label>ED α <input id="alpha" type="number" step="0.1" min="0" placeholder="0.3"></label>
    <label>temperature <input id="temperature" type="number" step="0.1" min="0" value="0.7"></label>
    <label>max tokens <input id="max-tokens" type="number" min="1" value="24"></label>
    <label>seed <input id="seed" type="number" value="1"></label>
  </div>
  <button id="run" disabled>Run</button> <button id="stop" disabled>Stop</button>
</fieldset>
<div id="results"></div>
<script type="module" src="main.js"></script>
</body>
</html>
`;
