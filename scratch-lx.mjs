await import('libxml2-wasm');
console.log(Math.round(process.resourceUsage().maxRSS/1024), 'MB');
