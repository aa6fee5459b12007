"""Ranked hits → an `Answer` (`types`): key points (`keypoints`, `prose`, `excerpt`), placeholders, warnings
and notices (`compose`).
"""
