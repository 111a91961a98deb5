import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'dist-tools/',
      '.readme-check-*/',
      'coverage/',
      'node_modules/',
      '*.config.js',
      'eslint.config.js',
      // An app of its own (own tsconfig and dependencies): type-checked by its own `npm run typecheck`.
      'examples/host-app/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/no-extraneous-class': 'off',
    },
  },
  {
    files: ['test/**/*.ts', 'src/**/*.spec.ts', 'bench/**/*.spec.ts', 'examples/**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // The console's front end (plain browser ES modules), the build script and the tests' child
    // process fixtures: JavaScript outside the TypeScript project, linted without type information.
    files: [
      'src/console/public/**/*.js',
      'scripts/**/*.mjs',
      'test/fixtures/**/*.mjs',
      'test/support/**/*.mjs',
    ],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['src/console/public/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: {
        window: 'readonly',
        document: 'readonly',
        fetch: 'readonly',
        // Every path is resolved against the console's root (lib.js consoleUrl).
        URL: 'readonly',
        EventSource: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        // Listen-in (listen.js): the socket and the Web Audio API.
        location: 'readonly',
        navigator: 'readonly',
        atob: 'readonly',
        btoa: 'readonly',
        WebSocket: 'readonly',
        AudioContext: 'readonly',
        AudioWorkletNode: 'readonly',
        AnalyserNode: 'readonly',
        GainNode: 'readonly',
      },
    },
  },
  {
    // The audio worklet runs in an AudioWorkletGlobalScope, not a window.
    files: ['src/console/public/listen-worklet.js'],
    languageOptions: {
      globals: {
        AudioWorkletProcessor: 'readonly',
        registerProcessor: 'readonly',
        sampleRate: 'readonly',
      },
    },
  },
  {
    files: ['scripts/**/*.mjs'],
    languageOptions: {
      sourceType: 'module',
      globals: { console: 'readonly', process: 'readonly' },
    },
  },
  {
    files: ['test/fixtures/**/*.mjs', 'test/support/**/*.mjs'],
    languageOptions: {
      sourceType: 'module',
      globals: { setTimeout: 'readonly', process: 'readonly' },
    },
  },
  prettier,
);
