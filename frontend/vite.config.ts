import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Built straight into the backend's static folder: the backend serves it at / (src/dashboard).
// `npm run dev -w frontend` proxies the API to a backend on 8000, so the cookie stays same-origin.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react(), tailwindcss()],
  build: {
    outDir: fileURLToPath(new URL('../backend/public', import.meta.url)),
    emptyOutDir: true,
    // recharts (~440 kB, ~125 kB gzip) lands in the chunk of the pages that chart, loaded on their first visit.
    chunkSizeWarningLimit: 800,
  },
  server: { proxy: { '/admin': 'http://127.0.0.1:8000', '/ak': 'http://127.0.0.1:8000' } },
});
