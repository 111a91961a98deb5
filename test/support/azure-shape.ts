// Azure OpenAI's upgrade rules live with the fake model in the testing kit (src/testing/).
export * from '../../src/testing/azure-shape.js';
