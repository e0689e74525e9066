/** Jest for the model, the request helper and the components. @jupyterlab/* ship ES modules
 * jest cannot load as they are, and need a browser app anyway: they are mapped to small mocks. */
module.exports = {
  testEnvironment: 'jsdom',
  roots: ['<rootDir>/test'],
  testRegex: '.*\\.spec\\.tsx?$',
  moduleFileExtensions: ['ts', 'tsx', 'js', 'json'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }]
  },
  moduleNameMapper: {
    '^@jupyterlab/(coreutils|services)$': '<rootDir>/test/mocks/jupyterlab.ts',
    '\\.css$': '<rootDir>/test/mocks/style.js',
    '^uplot$': '<rootDir>/test/mocks/uplot.ts'
  },
  setupFiles: ['<rootDir>/test/setup.js']
};
