module.exports = 'file-mock.svg';
