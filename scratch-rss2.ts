const which = process.argv[2];
await import(which);
console.log(which, Math.round(process.resourceUsage().maxRSS/1024), 'MB');
