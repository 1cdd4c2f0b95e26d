const which = process.argv[2];
if (which === 'detect') await import('./src/batch/formats/detect.ts');
if (which === 'importer') await import('./src/batch/importer/importer.ts');
if (which === 'cli') { await import('./src/db/knex.ts'); }
if (which === 'main') { await import('./src/main.ts'); }
console.log(which, Math.round(process.resourceUsage().maxRSS/1024), 'MB', Math.round(process.memoryUsage().rss/1048576));
